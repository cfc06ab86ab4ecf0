package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.hooks.HookSite;
import java.util.Collections;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What one forward pass returns: logits (shape per {@link LogitsMode}) and the captures its plan asked for, keyed
 * by site. Tensors belong to the PointerScope that was open around the forward call (or to the caller).
 */
public final class RunResult {
    private final Tensor logits;
    private final Map<HookSite, Tensor> captures;

    RunResult(Tensor logits, Map<HookSite, Tensor> captures) {
        this.logits = logits;
        this.captures = Collections.unmodifiableMap(captures);
    }

    /**
     * Logits, or null with {@link LogitsMode#NONE}.
     *
     * @return the logits
     */
    public Tensor logits() {
        return logits;
    }

    /**
     * Every capture of the plan, by site.
     *
     * @return the captures (unmodifiable)
     */
    public Map<HookSite, Tensor> captures() {
        return captures;
    }

    /**
     * The capture at a site; an error naming the site when the plan did not capture it.
     *
     * @param site a captured site
     * @return the captured tensor
     * @throws InvalidArgumentException ({@code "site"}) when the plan did not capture it
     */
    public Tensor capture(HookSite site) {
        Tensor t = captures.get(site);
        if (t == null) {
            throw new InvalidArgumentException("site", "no capture at " + site + " (captured: " + captures.keySet() + ")");
        }
        return t;
    }
}
