package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;

/**
 * Hyper-parameters of a Llama-family decoder (Llama 1-3, Mistral, Qwen2, llama2.c checkpoints).
 *
 * @param architecture      free-form family name ("llama", "mistral", "qwen2", "llama2.c")
 * @param dModel            residual width
 * @param hiddenDim         SwiGLU inner width
 * @param nLayers           decoder blocks
 * @param nHeads            query heads
 * @param nKvHeads          key/value heads (grouped-query attention when fewer than nHeads)
 * @param headDim           per-head width (usually dModel / nHeads)
 * @param vocabSize         vocabulary size
 * @param maxSeqLen         context length
 * @param normEps           RMSNorm epsilon
 * @param ropeTheta         RoPE base
 * @param ropeStyle         how RoPE pairs dimensions
 * @param ropeScaling       Llama-3 rope scaling, or null
 * @param tiedEmbeddings    lm_head shares the token embedding
 * @param attentionBias     q/k/v projections have biases (Qwen2)
 * @param bosId             beginning-of-sequence id, or -1
 * @param eosId             end-of-sequence id, or -1
 * @param eosIds            every id that ends generation ({@code eos_token_id} may be a list, e.g. Llama-3.1's
 *                          end_of_text, eom and eot): {@code eosId} first; empty when eosId is -1
 */
public record ModelConfig(String architecture, int dModel, int hiddenDim, int nLayers, int nHeads, int nKvHeads,
        int headDim, int vocabSize, int maxSeqLen, double normEps, double ropeTheta, RopeStyle ropeStyle,
        RopeScaling ropeScaling, boolean tiedEmbeddings, boolean attentionBias, int bosId, int eosId,
        java.util.List<Integer> eosIds) {

    /**
     * A config with one end-of-sequence id (or none when {@code eosId} is -1).
     *
     * @param architecture free-form family name ("llama", "mistral", "qwen2", "llama2.c")
     * @param dModel residual width
     * @param hiddenDim SwiGLU inner width
     * @param nLayers decoder blocks
     * @param nHeads query heads
     * @param nKvHeads key/value heads (grouped-query attention when fewer than nHeads)
     * @param headDim per-head width (usually dModel / nHeads)
     * @param vocabSize vocabulary size
     * @param maxSeqLen context length
     * @param normEps RMSNorm epsilon
     * @param ropeTheta RoPE base
     * @param ropeStyle how RoPE pairs dimensions
     * @param ropeScaling Llama-3 rope scaling, or null
     * @param tiedEmbeddings lm_head shares the token embedding
     * @param attentionBias q/k/v projections have biases (Qwen2)
     * @param bosId beginning-of-sequence id, or -1
     * @param eosId end-of-sequence id, or -1
     */
    public ModelConfig(String architecture, int dModel, int hiddenDim, int nLayers, int nHeads, int nKvHeads,
            int headDim, int vocabSize, int maxSeqLen, double normEps, double ropeTheta, RopeStyle ropeStyle,
            RopeScaling ropeScaling, boolean tiedEmbeddings, boolean attentionBias, int bosId, int eosId) {
        this(architecture, dModel, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen, normEps,
                ropeTheta, ropeStyle, ropeScaling, tiedEmbeddings, attentionBias, bosId, eosId,
                eosId >= 0 ? java.util.List.of(eosId) : java.util.List.of());
    }

    /**
     * Checks every size and id (positive sizes, nHeads a multiple of nKvHeads, an even headDim) and copies {@code
     * eosIds}.
     *
     * @param architecture free-form family name ("llama", "mistral", "qwen2", "llama2.c")
     * @param dModel residual width
     * @param hiddenDim SwiGLU inner width
     * @param nLayers decoder blocks
     * @param nHeads query heads
     * @param nKvHeads key/value heads (grouped-query attention when fewer than nHeads)
     * @param headDim per-head width (usually dModel / nHeads)
     * @param vocabSize vocabulary size
     * @param maxSeqLen context length
     * @param normEps RMSNorm epsilon
     * @param ropeTheta RoPE base
     * @param ropeStyle how RoPE pairs dimensions
     * @param ropeScaling Llama-3 rope scaling, or null
     * @param tiedEmbeddings lm_head shares the token embedding
     * @param attentionBias q/k/v projections have biases (Qwen2)
     * @param bosId beginning-of-sequence id, or -1
     * @param eosId end-of-sequence id, or -1
     * @param eosIds every id that ends generation ({@code eos_token_id} may be a list, e.g. Llama-3.1's end_of_text,
     *     eom and eot): {@code eosId} first; empty when eosId is -1
     * @throws InvalidArgumentException naming the first field that is out of range or inconsistent
     */
    public ModelConfig {
        eosIds = eosIds == null ? java.util.List.of() : java.util.List.copyOf(eosIds);
        if (eosId >= 0 ? eosIds.isEmpty() || eosIds.get(0) != eosId : !eosIds.isEmpty()) {
            throw new InvalidArgumentException("eosIds", "must start with eosId " + eosId + " (or be empty when it is -1), got " + eosIds);
        }
        for (int id : eosIds) {
            if (id < 0) {
                throw new InvalidArgumentException("eosIds", "token ids must be >= 0, got " + eosIds);
            }
        }
        positive("dModel", dModel);
        positive("hiddenDim", hiddenDim);
        positive("nLayers", nLayers);
        positive("nHeads", nHeads);
        positive("nKvHeads", nKvHeads);
        positive("headDim", headDim);
        positive("vocabSize", vocabSize);
        positive("maxSeqLen", maxSeqLen);
        if (nHeads % nKvHeads != 0) {
            throw new InvalidArgumentException("nKvHeads", "nHeads=" + nHeads + " is not a multiple of nKvHeads=" + nKvHeads);
        }
        if (headDim % 2 != 0) {
            throw new InvalidArgumentException("headDim", "must be even for rotary embeddings, got " + headDim);
        }
        if (!(normEps > 0) || !(ropeTheta > 0)) {
            throw new InvalidArgumentException("normEps/ropeTheta", "must be positive");
        }
        if (ropeStyle == null) {
            throw new InvalidArgumentException("ropeStyle", "must be set");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new InvalidArgumentException(name, "must be positive, got " + v);
        }
    }

    /**
     * Query heads per key/value head.
     *
     * @return {@code nHeads / nKvHeads}
     */
    public int groupSize() {
        return nHeads / nKvHeads;
    }

    /**
     * Number of parameters (embeddings counted once when tied).
     *
     * @return the parameter count
     */
    public long parameterCount() {
        long d = dModel;
        long q = (long) nHeads * headDim;
        long kv = (long) nKvHeads * headDim;
        long attn = d * q + 2 * d * kv + q * d + (attentionBias ? q + 2 * kv : 0);
        long mlp = 3 * d * hiddenDim;
        long perLayer = attn + mlp + 2 * d;
        long emb = (long) vocabSize * d;
        return nLayers * perLayer + d + emb + (tiedEmbeddings ? 0 : emb);
    }

    /**
     * Whether {@code id} ends generation (one of {@link #eosIds()}).
     *
     * @param id a token id
     * @return true when it ends generation
     */
    public boolean isEos(int id) {
        return eosIds.contains(id);
    }

    /**
     * This config with another RoPE pairing (the weights must be permuted to match).
     *
     * @param style the pairing
     * @return the new config
     */
    public ModelConfig withRopeStyle(RopeStyle style) {
        return new ModelConfig(architecture, dModel, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen,
                normEps, ropeTheta, style, ropeScaling, tiedEmbeddings, attentionBias, bosId, eosId, eosIds);
    }

    /**
     * This config with the language-model head tied to the embeddings or not.
     *
     * @param tied whether lm_head shares the token embedding
     * @return the new config
     */
    public ModelConfig withTiedEmbeddings(boolean tied) {
        return new ModelConfig(architecture, dModel, hiddenDim, nLayers, nHeads, nKvHeads, headDim, vocabSize, maxSeqLen,
                normEps, ropeTheta, ropeStyle, ropeScaling, tied, attentionBias, bosId, eosId, eosIds);
    }
}
