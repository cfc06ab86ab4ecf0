package dev.ivkit.continual;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.RunResult;
import dev.ivkit.train.TrainBatch;
import dev.ivkit.util.Torch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017) adapted to the continual LoRA protocol, where every task
 * gets a fresh adapter and the finished one is merged into the weights.
 *
 * <p><b>What the penalty is defined on.</b> The parameters θ are the full weight matrices W of the LoRA target
 * modules (q_proj, v_proj by default), i.e. the merged-weight directions that the adapters move. After task k is
 * trained and merged, the diagonal empirical Fisher F_k of those W is estimated on task k's training examples at
 * the merged model: {@code F_k = 1/N Σ_n (∂ NLL_n / ∂W)²}, NLL_n the mean answer-token negative log-likelihood of
 * example n (one example per backward pass). Fishers are summed over finished tasks (online EWC, Schwarz et al. 2018,
 * γ = 1) and the anchor is the latest merged weights θ* — which are exactly the weights under the current fresh
 * adapter, so {@code W − θ* = s · B A} and the penalty is
 * <pre>  λ/2 · Σ_modules Σ_entries F ⊙ (s · B A)²</pre>
 * (s = alpha / rank). The value is reported in the trainer's {@code pr} column.
 */
public final class EwcRegulariser extends ParameterPenalty {
    private final Map<String, Tensor> fisher;   // module path -> [out, in] float32
    private final double lambda;

    /** @param fisher summed Fisher per module path (see {@link #estimateFisher}); @param lambda weight λ */
    public EwcRegulariser(Map<String, Tensor> fisher, double lambda) {
        if (!(lambda >= 0)) {
            throw new InvalidArgumentException("ewc_lambda", "must be >= 0, got " + lambda);
        }
        this.fisher = fisher;
        this.lambda = lambda;
    }

    @Override
    public Tensor penalty(LoraAdapter a) {
        Tensor total = torch.zeros(new long[] {}, Torch.options(torch.ScalarType.Float));
        double s = a.config().scaling();
        for (Map.Entry<String, Tensor[]> e : a.all().entrySet()) {
            Tensor f = fisher.get(e.getKey());
            if (f == null) {
                continue;
            }
            Tensor delta = e.getValue()[1].matmul(e.getValue()[0]).mul(new Scalar(s));
            total = total.add(Torch.onDevice(f, delta).mul(delta.mul(delta)).sum());   // a resumed Fisher is on the host
        }
        return total.mul(new Scalar(lambda / 2));
    }

    /**
     * Diagonal empirical Fisher of {@code params}: the mean over {@code n} examples of the squared gradient of
     * {@code lossOf.apply(i)} (each loss built with gradient; one backward per example). Returns float32 tensors
     * shaped like the parameters; the parameters' gradients are left zeroed.
     */
    public static List<Tensor> diagonalFisher(List<Tensor> params, int n, IntFunction<Tensor> lossOf) {
        if (n <= 0) {
            throw new InvalidArgumentException("examples", "Fisher needs at least one example");
        }
        List<Tensor> acc = new ArrayList<>();
        for (Tensor p : params) {
            Tensor z = torch.zeros_like(p.detach()).to(torch.ScalarType.Float);
            z.retainReference();
            acc.add(z);
        }
        for (int i = 0; i < n; i++) {
            try (PointerScope s = new PointerScope()) {
                lossOf.apply(i).backward();
                try (NoGradGuard g = new NoGradGuard()) {
                    for (int k = 0; k < params.size(); k++) {
                        Tensor gr = params.get(k).grad();
                        if (gr != null && gr.defined()) {
                            Tensor gf = gr.to(torch.ScalarType.Float);
                            acc.get(k).add_(gf.mul(gf));
                            gr.zero_();
                        }
                    }
                }
            }
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (Tensor t : acc) {
                t.div_(new Scalar(n));
            }
        }
        return acc;
    }

    /**
     * Fisher of the weights of {@code targets} (LoRA module names) in every layer, on {@code data}, at the model's
     * current weights with no adapter attached and dropout off. The weights get {@code requires_grad} only for the
     * duration of the call.
     */
    public static Map<String, Tensor> estimateFisher(LlamaModel model, List<TokenizedPrompt> data, List<String> targets) {
        if (model.adapter() != null) {
            throw new InvalidArgumentException("adapter", "merge or detach the adapter before estimating the Fisher");
        }
        List<String> paths = new ArrayList<>();
        List<Tensor> params = new ArrayList<>();
        for (int l = 0; l < model.config().nLayers(); l++) {
            for (String m : targets) {
                String p = LoraConfig.modulePath(l, m);
                paths.add(p);
                params.add(model.weights().get(p + ".weight"));
            }
        }
        model.setTraining(false);
        for (Tensor p : params) {
            p.requires_grad_(true);
        }
        List<Tensor> f;
        try {
            f = diagonalFisher(params, data.size(), i -> {
                TrainBatch b = TrainBatch.of(List.of(data.get(i)));
                RunResult r = model.forward(b.tokens, b.mask, HookPlan.empty(), null, LogitsMode.ALL);
                return b.crossEntropy(r.logits());
            });
        } finally {
            for (Tensor p : params) {
                p.requires_grad_(false);
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < paths.size(); i++) {
            out.put(paths.get(i), f.get(i));
        }
        return out;
    }

    /** {@code a += b} per module (summing task Fishers); returns {@code a}, or {@code b} when {@code a} is empty. */
    public static Map<String, Tensor> accumulate(Map<String, Tensor> a, Map<String, Tensor> b) {
        if (a == null || a.isEmpty()) {
            return b;
        }
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : b.entrySet()) {
                a.get(e.getKey()).add_(e.getValue());
            }
        }
        return a;
    }
}
