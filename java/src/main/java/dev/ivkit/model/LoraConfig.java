package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import java.util.List;
import java.util.Set;

/**
 * LoRA hyper-parameters (Hu et al.; PEFT's LoraConfig): {@code W x + (alpha / rank) · B A dropout(x)} on the target
 * projections. Defaults are the IV authors': rank 8, alpha 16, dropout 0.1 on q_proj and v_proj.
 *
 * @param targets module names: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targets) {
    /** The module names LoRA can adapt. */
    public static final Set<String> MODULES = Set.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    /**
     * Checks the ranges and the module names and copies {@code targets}.
     *
     * @param rank    rank r of A and B, positive
     * @param alpha   scaling numerator, positive
     * @param dropout dropout on the adapter's input, in [0, 1)
     * @param targets module names from {@link #MODULES}, at least one
     * @throws InvalidArgumentException naming the first field out of range
     */
    public LoraConfig {
        if (rank <= 0) {
            throw new InvalidArgumentException("rank", "must be positive, got " + rank);
        }
        if (!(alpha > 0)) {
            throw new InvalidArgumentException("alpha", "must be positive, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new InvalidArgumentException("dropout", "must be in [0, 1), got " + dropout);
        }
        if (targets == null || targets.isEmpty()) {
            throw new InvalidArgumentException("targets", "no target modules");
        }
        for (String t : targets) {
            if (!MODULES.contains(t)) {
                throw new InvalidArgumentException("targets", "unknown module '" + t + "' (one of " + MODULES + ")");
            }
        }
        targets = List.copyOf(targets);
    }

    /**
     * The IV authors' settings: rank 8, alpha 16, dropout 0.1 on q_proj and v_proj.
     *
     * @return the default configuration
     */
    public static LoraConfig defaults() {
        return new LoraConfig(8, 16, 0.1, List.of("q_proj", "v_proj"));
    }

    /**
     * The factor of the update, {@code alpha / rank}.
     *
     * @return the scaling
     */
    public double scaling() {
        return alpha / rank;
    }

    /**
     * The HF module path of a target inside layer l, e.g. model.layers.3.self_attn.q_proj.
     *
     * @param layer  layer index
     * @param module a module name from {@link #MODULES}
     * @return the module's path
     */
    public static String modulePath(int layer, String module) {
        String group = module.endsWith("_proj") && (module.startsWith("gate") || module.startsWith("up") || module.startsWith("down")) ? "mlp." : "self_attn.";
        return "model.layers." + layer + "." + group + module;
    }
}
