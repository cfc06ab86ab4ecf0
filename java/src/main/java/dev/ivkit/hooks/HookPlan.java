package dev.ivkit.hooks;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.model.ModelConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A declarative description of what one forward pass reads: captures by {@link HookSite}. Built once, validated
 * against the model before the forward ({@link #validate}), executed inside the forward with no per-hook callbacks.
 * Immutable.
 */
public final class HookPlan {
    private static final HookPlan EMPTY = new HookPlan(List.of());
    private final List<Capture> captures;

    private HookPlan(List<Capture> captures) {
        this.captures = Collections.unmodifiableList(new ArrayList<>(captures));
    }

    public static HookPlan empty() {
        return EMPTY;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Capture> captures() {
        return captures;
    }

    public boolean isEmpty() {
        return captures.isEmpty();
    }

    /** Captures at one site, in plan order. */
    public List<Capture> capturesAt(HookSite site) {
        List<Capture> out = new ArrayList<>();
        for (Capture c : captures) {
            if (c.site().equals(site)) {
                out.add(c);
            }
        }
        return out;
    }

    /** Checks layer ranges and positions against the model and the input shape. */
    public void validate(ModelConfig cfg, int batch, int seqLen) {
        for (Capture c : captures) {
            HookSite s = c.site();
            if (s.layer() >= cfg.nLayers()) {
                throw new InvalidArgumentException("layer", "capture at " + s + ": layer " + s.layer()
                        + " is out of range [0, " + cfg.nLayers() + ")");
            }
            c.positions().resolve(batch, seqLen, "positions of capture " + s);
        }
    }

    public static final class Builder {
        private final Map<HookSite, Capture> captures = new LinkedHashMap<>();

        public Builder capture(HookSite site, Positions positions) {
            if (captures.put(site, new Capture(site, positions)) != null) {
                throw new InvalidArgumentException("site", "site " + site + " is captured twice in one plan");
            }
            return this;
        }

        public Builder capture(HookSite site) {
            return capture(site, Positions.all());
        }

        public HookPlan build() {
            return new HookPlan(new ArrayList<>(captures.values()));
        }
    }
}
