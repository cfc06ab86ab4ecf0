package dev.ivkit.model;

/**
 * Canonical tensor names of a Llama-family model: the Hugging Face Llama names. Every loader produces a map keyed
 * by these (llama2.c files included), and {@link LlamaModel} reads only these. Shapes are [out, in] as in
 * {@code torch.nn.Linear}.
 */
public final class WeightNames {
    private WeightNames() {}

    /** Token embedding [vocab, d_model]. */
    public static final String EMBED = "model.embed_tokens.weight";
    /** Final RMSNorm weight [d_model]. */
    public static final String FINAL_NORM = "model.norm.weight";
    /** Language-model head [vocab, d_model]; absent when tied to {@link #EMBED}. */
    public static final String LM_HEAD = "lm_head.weight";

    /**
     * The name of a tensor of decoder layer {@code l}.
     *
     * @param l      layer index
     * @param suffix the name inside the layer, e.g. {@code "self_attn.q_proj.weight"}
     * @return {@code model.layers.<l>.<suffix>}
     */
    public static String layer(int l, String suffix) {
        return "model.layers." + l + "." + suffix;
    }

    /**
     * Attention RMSNorm weight [d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String attnNorm(int l) { return layer(l, "input_layernorm.weight"); }

    /**
     * Query projection [n_heads*d_head, d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String q(int l) { return layer(l, "self_attn.q_proj.weight"); }

    /**
     * Key projection [n_kv*d_head, d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String k(int l) { return layer(l, "self_attn.k_proj.weight"); }

    /**
     * Value projection [n_kv*d_head, d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String v(int l) { return layer(l, "self_attn.v_proj.weight"); }

    /**
     * Query bias [n_heads*d_head] (Qwen2) of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String qBias(int l) { return layer(l, "self_attn.q_proj.bias"); }

    /**
     * Key bias [n_kv*d_head] (Qwen2) of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String kBias(int l) { return layer(l, "self_attn.k_proj.bias"); }

    /**
     * Value bias [n_kv*d_head] (Qwen2) of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String vBias(int l) { return layer(l, "self_attn.v_proj.bias"); }

    /**
     * Output projection W_O [d_model, n_heads*d_head] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String o(int l) { return layer(l, "self_attn.o_proj.weight"); }

    /**
     * MLP RMSNorm weight [d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String mlpNorm(int l) { return layer(l, "post_attention_layernorm.weight"); }

    /**
     * SwiGLU gate projection [hidden, d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String gate(int l) { return layer(l, "mlp.gate_proj.weight"); }

    /**
     * SwiGLU up projection [hidden, d_model] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String up(int l) { return layer(l, "mlp.up_proj.weight"); }

    /**
     * SwiGLU down projection [d_model, hidden] of layer {@code l}.
     *
     * @param l layer index
     * @return the tensor's name
     */
    public static String down(int l) { return layer(l, "mlp.down_proj.weight"); }
}
