package dev.ivkit.train;

import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** ivkit's AdamW against libtorch's torch::optim::AdamW on the same gradients. */
class AdamWTest {
    @Test
    void matchesLibtorchAdamW() {
        Torch.init();
        try (PointerScope s = new PointerScope()) {
            torch.manual_seed(1);
            Tensor a = torch.randn(7, 5).requires_grad_(true), b = a.detach().clone().requires_grad_(true);
            AdamW ours = new AdamW(List.of(a), 0.9, 0.999, 1e-8, 0.01);
            AdamWOptions o = new AdamWOptions(3e-3);
            o.weight_decay().put(0.01);
            org.bytedeco.pytorch.AdamW ref = new org.bytedeco.pytorch.AdamW(new TensorVector(b), o);
            Tensor x = torch.randn(5, 3);
            for (int i = 0; i < 6; i++) {
                Tensor la = a.matmul(x).pow(new Scalar(2)).sum();
                la.backward();
                ours.step(3e-3);
                ours.zeroGrad();
                ref.zero_grad();
                Tensor lb = b.matmul(x).pow(new Scalar(2)).sum();
                lb.backward();
                ref.step();
                Compare.assertClose(b.detach(), a.detach(), 1e-6, 1e-7, "step " + i);
            }
            ours.close();
        }
    }
}
