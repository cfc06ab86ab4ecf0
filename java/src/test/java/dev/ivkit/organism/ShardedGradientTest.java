package dev.ivkit.organism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.kernels.Blas;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.testutil.Compare;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** Gradients summed over row shards computed on parallel threads equal the full-batch gradient of plain autograd. */
class ShardedGradientTest {
    @Test
    void shardGradientsSumToTheFullBatchGradient() {
        OrganismTrainer tr = new OrganismTrainer(OrganismTest.tiny(1));
        OrganismTrainer.Batch b = tr.batch(3);
        int blas = Blas.threads();
        List<float[]> reference = new ArrayList<>();
        double refLoss;
        Map<String, Tensor> w = tr.initialWeights();
        w.values().forEach(t -> t.requires_grad_(true));
        List<Tensor> params = new ArrayList<>(w.values());
        try (PointerScope s = new PointerScope(); LlamaModel m = new LlamaModel(tr.modelConfig(), w, torch.ScalarType.Float)) {
            // reference: one forward of the whole batch, mean answer NLL, loss.backward() into .grad
            Tensor ids = torch.tensor(b.ids()).reshape(b.rows(), b.len());
            Tensor mask = torch.tensor(b.mask()).reshape(b.rows(), b.len() - 1);
            Tensor logits = m.forward(ids.narrow(1, 0, b.len() - 1), HookPlan.empty()).logits();
            Tensor nll = logits.log_softmax(2).gather(2, ids.narrow(1, 1, b.len() - 1).unsqueeze(2)).squeeze(2).neg();
            Tensor loss = nll.mul(mask).sum().div(mask.sum());
            refLoss = loss.item_double();
            loss.backward();
            for (Tensor p : params) {
                reference.add(dev.ivkit.util.Torch.toFloatArray(p.grad()));
            }
            for (int shards : new int[] {1, 2, 3}) {
                try (ShardedGradient g = new ShardedGradient(m, params, shards)) {
                    double l = g.compute(b);
                    assertEquals(refLoss, l, 1e-5 * Math.abs(refLoss), shards + " shards: loss");
                    for (int i = 0; i < params.size(); i++) {
                        Compare.assertClose(torch.tensor(reference.get(i)), params.get(i).grad().reshape(-1), 1e-4, 1e-6,
                                shards + " shards: gradient of parameter " + i);
                    }
                }
                assertEquals(blas, Blas.threads(), "BLAS threads restored after " + shards + " shards");
            }
        }
    }

    @Test
    void theSameShardCountGivesBitIdenticalGradients() {
        OrganismTrainer tr = new OrganismTrainer(OrganismTest.tiny(1));
        OrganismTrainer.Batch b = tr.batch(7);
        Map<String, Tensor> w = tr.initialWeights();
        w.values().forEach(t -> t.requires_grad_(true));
        List<Tensor> params = new ArrayList<>(w.values());
        try (PointerScope s = new PointerScope(); LlamaModel m = new LlamaModel(tr.modelConfig(), w, torch.ScalarType.Float);
                ShardedGradient g = new ShardedGradient(m, params, 2)) {
            g.compute(b);
            List<Tensor> first = params.stream().map(p -> p.grad().clone()).toList();
            g.compute(b);
            for (int i = 0; i < params.size(); i++) {
                assertTrue(torch.equal(first.get(i), params.get(i).grad()), "gradient " + i + " differs between two runs");
            }
        }
    }
}
