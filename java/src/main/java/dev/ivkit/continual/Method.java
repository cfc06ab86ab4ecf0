package dev.ivkit.continual;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;

/** The continual-learning methods the runner compares. */
public enum Method {
    /** plain LoRA, no regulariser */
    NAIVE("naive"),
    /** the IV-guided regulariser (KL to the adapter-disabled model with the task's IV added + head preservation) */
    IV_GUIDED("iv-guided"),
    /** LwF / KL-only: the same KL terms to the adapter-disabled (previous) model, no IV, no head preservation */
    LWF("lwf"),
    /**
     * LwF with IV-guided's head preservation: the same KL terms with no IV, the task's IV heads preserved — the ablation
     * that differs from IV-guided only in the IV
     */
    LWF_PR("lwf-pr"),
    /** online EWC on the merged-weight directions ({@link EwcRegulariser}) */
    EWC("ewc"),
    /** experience replay ({@link ReplayBuffer}) */
    REPLAY("replay"),
    /** O-LoRA orthogonality term ({@link OLoraRegulariser}) */
    OLORA("olora");

    public final String id;

    Method(String id) {
        this.id = id;
    }

    public static Method parse(String s) {
        for (Method m : values()) {
            if (m.id.equalsIgnoreCase(s.strip())) {
                return m;
            }
        }
        throw new InvalidArgumentException("methods", "unknown method '" + s + "' (naive, iv-guided, lwf, lwf-pr, ewc, replay, olora)");
    }

    public static List<Method> parseList(List<String> ids) {
        List<Method> out = new ArrayList<>();
        for (String s : ids) {
            out.add(parse(s));
        }
        return out;
    }
}
