package dev.ivkit.model;

/**
 * Canonical tensor names of a Llama-family model: the Hugging Face Llama names. Every loader produces a map keyed
 * by these (llama2.c files included), and {@link LlamaModel} reads only these. Shapes are [out, in] as in
 * {@code torch.nn.Linear}.
 */
public final class WeightNames {
    private WeightNames() {}

    public static final String EMBED = "model.embed_tokens.weight";        // [vocab, d_model]
    public static final String FINAL_NORM = "model.norm.weight";           // [d_model]
    public static final String LM_HEAD = "lm_head.weight";                 // [vocab, d_model]; absent when tied

    public static String layer(int l, String suffix) {
        return "model.layers." + l + "." + suffix;
    }

    public static String attnNorm(int l) { return layer(l, "input_layernorm.weight"); }          // [d_model]
    public static String q(int l) { return layer(l, "self_attn.q_proj.weight"); }                // [n_heads*d_head, d_model]
    public static String k(int l) { return layer(l, "self_attn.k_proj.weight"); }                // [n_kv*d_head, d_model]
    public static String v(int l) { return layer(l, "self_attn.v_proj.weight"); }                // [n_kv*d_head, d_model]
    public static String qBias(int l) { return layer(l, "self_attn.q_proj.bias"); }
    public static String kBias(int l) { return layer(l, "self_attn.k_proj.bias"); }
    public static String vBias(int l) { return layer(l, "self_attn.v_proj.bias"); }
    public static String o(int l) { return layer(l, "self_attn.o_proj.weight"); }                // [d_model, n_heads*d_head]
    public static String mlpNorm(int l) { return layer(l, "post_attention_layernorm.weight"); }  // [d_model]
    public static String gate(int l) { return layer(l, "mlp.gate_proj.weight"); }                // [hidden, d_model]
    public static String up(int l) { return layer(l, "mlp.up_proj.weight"); }                    // [hidden, d_model]
    public static String down(int l) { return layer(l, "mlp.down_proj.weight"); }                // [d_model, hidden]
}
