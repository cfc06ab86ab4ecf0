package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named activation site, spelled as in TransformerLens so people from the field read it at once.
 * {@code HookSite.attnZ(3).canonicalName()} is {@code "blocks.3.attn.hook_z"}. Shapes:
 * <ul>
 *   <li>{@code hook_embed}, {@code blocks.L.hook_resid_pre|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post},
 *       {@code ln_final.hook_normalized}: [batch, pos, d_model]</li>
 *   <li>{@code blocks.L.attn.hook_z}: [batch, pos, head, d_head], per query head, before W_O</li>
 *   <li>{@code logits}: [batch, pos, vocab]</li>
 * </ul>
 */
public record HookSite(Kind kind, int layer) {

    /** Site kinds; {@link #layered} ones carry a layer index. */
    public enum Kind {
        /** {@code hook_embed}: the token embeddings. */
        EMBED("hook_embed", false),
        /** {@code blocks.L.hook_resid_pre}: the residual stream entering block L. */
        RESID_PRE("hook_resid_pre", true),
        /** {@code blocks.L.attn.hook_z}: each query head's output, before W_O. */
        ATTN_Z("attn.hook_z", true),
        /** {@code blocks.L.hook_attn_out}: the attention output after W_O. */
        ATTN_OUT("hook_attn_out", true),
        /** {@code blocks.L.hook_resid_mid}: the residual stream between attention and MLP. */
        RESID_MID("hook_resid_mid", true),
        /** {@code blocks.L.hook_mlp_out}: the MLP output. */
        MLP_OUT("hook_mlp_out", true),
        /** {@code blocks.L.hook_resid_post}: the residual stream leaving block L. */
        RESID_POST("hook_resid_post", true),
        /** {@code ln_final.hook_normalized}: the final norm's output. */
        LN_FINAL("ln_final.hook_normalized", false),
        /** {@code logits}: the language-model head's output. */
        LOGITS("logits", false);

        final String suffix;
        final boolean layered;

        Kind(String suffix, boolean layered) {
            this.suffix = suffix;
            this.layered = layered;
        }
    }

    /**
     * Checks that a layered kind has a layer and the others have none.
     *
     * @param kind  the site kind
     * @param layer the block index for layered kinds, -1 for the others
     * @throws InvalidArgumentException ({@code "layer"}) when the layer does not fit the kind
     */
    public HookSite {
        if (kind.layered && layer < 0) {
            throw new InvalidArgumentException("layer", "negative layer " + layer + " for " + kind.suffix);
        }
        if (!kind.layered && layer != -1) {
            throw new InvalidArgumentException("layer", kind.suffix + " has no layer");
        }
    }

    /**
     * The token embeddings.
     *
     * @return the site {@code hook_embed}
     */
    public static HookSite embed() { return new HookSite(Kind.EMBED, -1); }
    /**
     * The residual stream entering block {@code layer}.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.hook_resid_pre}
     */
    public static HookSite residPre(int layer) { return new HookSite(Kind.RESID_PRE, layer); }
    /**
     * Each query head's output in block {@code layer}, before W_O.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.attn.hook_z}
     */
    public static HookSite attnZ(int layer) { return new HookSite(Kind.ATTN_Z, layer); }
    /**
     * The attention output of block {@code layer}, after W_O.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.hook_attn_out}
     */
    public static HookSite attnOut(int layer) { return new HookSite(Kind.ATTN_OUT, layer); }
    /**
     * The residual stream of block {@code layer} between attention and MLP.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.hook_resid_mid}
     */
    public static HookSite residMid(int layer) { return new HookSite(Kind.RESID_MID, layer); }
    /**
     * The MLP output of block {@code layer}.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.hook_mlp_out}
     */
    public static HookSite mlpOut(int layer) { return new HookSite(Kind.MLP_OUT, layer); }
    /**
     * The residual stream leaving block {@code layer}.
     *
     * @param layer block index, at least 0
     * @return the site {@code blocks.<layer>.hook_resid_post}
     */
    public static HookSite residPost(int layer) { return new HookSite(Kind.RESID_POST, layer); }
    /**
     * The final norm's output.
     *
     * @return the site {@code ln_final.hook_normalized}
     */
    public static HookSite lnFinal() { return new HookSite(Kind.LN_FINAL, -1); }
    /**
     * The language-model head's output.
     *
     * @return the site {@code logits}
     */
    public static HookSite logits() { return new HookSite(Kind.LOGITS, -1); }

    /**
     * The TransformerLens name, e.g. {@code "blocks.3.attn.hook_z"}.
     *
     * @return the canonical name
     */
    public String canonicalName() {
        return kind.layered ? "blocks." + layer + "." + kind.suffix : kind.suffix;
    }

    @Override
    public String toString() {
        return canonicalName();
    }

    private static final Pattern LAYERED = Pattern.compile("blocks\\.(\\d+)\\.(hook_resid_pre|attn\\.hook_z|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post)");

    /**
     * Parses a canonical name; anything else (shorthands included) is an error naming the input.
     *
     * @param name a canonical name such as {@code "blocks.3.attn.hook_z"} or {@code "logits"}
     * @return the site
     * @throws InvalidArgumentException ({@code "site"}) for any other name
     */
    public static HookSite parse(String name) {
        for (Kind k : Kind.values()) {
            if (!k.layered && k.suffix.equals(name)) {
                return new HookSite(k, -1);
            }
        }
        Matcher m = LAYERED.matcher(name == null ? "" : name);
        if (m.matches()) {
            for (Kind k : Kind.values()) {
                if (k.layered && k.suffix.equals(m.group(2))) {
                    return new HookSite(k, Integer.parseInt(m.group(1)));
                }
            }
        }
        throw new InvalidArgumentException("site", "unknown hook site '" + name + "' (expected e.g. blocks.3.attn.hook_z)");
    }
}
