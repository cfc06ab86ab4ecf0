package dev.ivkit.continual;

import dev.ivkit.model.LoraAdapter;
import dev.ivkit.util.Torch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * O-LoRA's orthogonality term (Wang et al., "Orthogonal Subspace Learning for Language Model Continual Learning",
 * EMNLP Findings 2023, eq. 4): {@code λ · Σ_{earlier tasks i} Σ_modules Σ_{j,k} |A_i A_cur^T|[j,k]}, with A the LoRA
 * down-projections ([rank, in]; the earlier ones constant). Pushes the new task's LoRA subspace to be orthogonal to
 * the earlier tasks'. O-LoRA's L2 term on B (λ2) is not included. Reported in the trainer's {@code pr} column.
 */
public final class OLoraRegulariser extends ParameterPenalty {
    private final List<Map<String, Tensor>> previousA;   // per earlier task: module path -> A [rank, in]
    private final double lambda;

    public OLoraRegulariser(List<Map<String, Tensor>> previousA, double lambda) {
        this.previousA = List.copyOf(previousA);
        this.lambda = lambda;
    }

    @Override
    public Tensor penalty(LoraAdapter a) {
        Map<String, Tensor> cur = new LinkedHashMap<>();
        a.all().forEach((k, v) -> cur.put(k, v[0]));
        return penalty(cur);
    }

    /** The term for current A matrices by module path. */
    public Tensor penalty(Map<String, Tensor> currentA) {
        Tensor total = torch.zeros(new long[] {}, Torch.options(torch.ScalarType.Float));
        for (Map<String, Tensor> prev : previousA) {
            for (Map.Entry<String, Tensor> e : currentA.entrySet()) {
                Tensor p = prev.get(e.getKey());
                if (p != null) {
                    total = total.add(p.detach().matmul(e.getValue().t()).abs().sum());
                }
            }
        }
        return total.mul(new Scalar(lambda));
    }

    /**
     * What O-LoRA keeps of a finished task: detached copies of its adapter's A matrices by module path, each retained so
     * that it outlives the caller's pointer scope (for the next tasks' {@link #OLoraRegulariser(List, double)}).
     */
    public static Map<String, Tensor> keepA(LoraAdapter a) {
        Map<String, Tensor> as = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor[]> e : a.all().entrySet()) {
            Tensor c = e.getValue()[0].detach().clone();
            c.retainReference();
            as.put(e.getKey(), c);
        }
        return as;
    }

}
