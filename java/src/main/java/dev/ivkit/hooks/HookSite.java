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
        EMBED("hook_embed", false), RESID_PRE("hook_resid_pre", true), ATTN_Z("attn.hook_z", true),
        ATTN_OUT("hook_attn_out", true), RESID_MID("hook_resid_mid", true), MLP_OUT("hook_mlp_out", true),
        RESID_POST("hook_resid_post", true), LN_FINAL("ln_final.hook_normalized", false), LOGITS("logits", false);

        final String suffix;
        final boolean layered;

        Kind(String suffix, boolean layered) {
            this.suffix = suffix;
            this.layered = layered;
        }
    }

    public HookSite {
        if (kind.layered && layer < 0) {
            throw new InvalidArgumentException("layer", "negative layer " + layer + " for " + kind.suffix);
        }
        if (!kind.layered && layer != -1) {
            throw new InvalidArgumentException("layer", kind.suffix + " has no layer");
        }
    }

    public static HookSite embed() { return new HookSite(Kind.EMBED, -1); }
    public static HookSite residPre(int layer) { return new HookSite(Kind.RESID_PRE, layer); }
    public static HookSite attnZ(int layer) { return new HookSite(Kind.ATTN_Z, layer); }
    public static HookSite attnOut(int layer) { return new HookSite(Kind.ATTN_OUT, layer); }
    public static HookSite residMid(int layer) { return new HookSite(Kind.RESID_MID, layer); }
    public static HookSite mlpOut(int layer) { return new HookSite(Kind.MLP_OUT, layer); }
    public static HookSite residPost(int layer) { return new HookSite(Kind.RESID_POST, layer); }
    public static HookSite lnFinal() { return new HookSite(Kind.LN_FINAL, -1); }
    public static HookSite logits() { return new HookSite(Kind.LOGITS, -1); }

    public String canonicalName() {
        return kind.layered ? "blocks." + layer + "." + kind.suffix : kind.suffix;
    }

    @Override
    public String toString() {
        return canonicalName();
    }

    private static final Pattern LAYERED = Pattern.compile("blocks\\.(\\d+)\\.(hook_resid_pre|attn\\.hook_z|hook_attn_out|hook_resid_mid|hook_mlp_out|hook_resid_post)");

    /** Parses a canonical name; anything else (shorthands included) is an error naming the input. */
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
