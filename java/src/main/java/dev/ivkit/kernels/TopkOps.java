package dev.ivkit.kernels;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.KlDirection;
import dev.ivkit.util.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** The bodies of {@link Kernels}' top-k entry points (checks, then the CPU or CUDA call); contracts on those. */
final class TopkOps {
    private TopkOps() {}

    /** {@link Kernels#klTopkRows(Tensor, Tensor, Tensor, Tensor, Tensor, double, KlDirection, boolean, torch.ScalarType)}. */
    static KlRowsResult klTopkRows(Tensor current, Tensor ids, Tensor logq, Tensor logRest, Tensor mask,
            double temperature, KlDirection dir, boolean withGrad, torch.ScalarType gradDtype) {
        long[] rv = KernelArgs.logits("current", current);
        int dtype = KernelArgs.dtypeCode("current", current);
        long rows = rv[0], vocab = rv[1];
        long k = KernelArgs.cachedTopK(ids, logq, logRest, rows, vocab, current);
        KernelArgs.klOptions(temperature, dir, gradDtype, current);
        int maskKind = KernelArgs.maskKind(mask, rows, current);
        Tensor loss = current.new_empty(new long[] {rows}, Torch.options(torch.ScalarType.Float));
        Tensor grad = withGrad ? GradBuffer.take(current, gradDtype) : null;
        if (current.is_meta() || rows == 0) {
            return new KlRowsResult(loss, grad);  // shape-only tensors or no rows: arguments checked, no work
        }
        long[] p = {current.data_ptr().address(), ids.data_ptr().address(), logq.data_ptr().address(),
            logRest.data_ptr().address(), mask == null ? 0 : mask.data_ptr().address(), loss.data_ptr().address(),
            grad == null ? 0 : grad.data_ptr().address()};
        int gradCode = gradDtype == torch.ScalarType.Float ? 0 : dtype, d = dir == KlDirection.FORWARD ? 0 : 1;
        if (!current.is_cuda()) {
            Status.check(IvkitNative.ivkit_kl_topk_rows(p[0], rows, vocab, dtype, p[1], p[2], p[3], k, p[4], maskKind,
                    (float) temperature, d, p[5], p[6], gradCode, torch.get_num_threads()), IvkitNative::ivkit_last_error);
        } else {
            KernelArgs.checkTopkIds(ids, vocab);
            Status.check(IvkitCudaNative.ivkit_cuda_kl_topk_rows(p[0], rows, vocab, dtype, p[1], p[2], p[3], k, p[4], maskKind,
                    (float) temperature, d, p[5], p[6], gradCode, Cuda.requireStream(current)), IvkitCudaNative::ivkit_cuda_last_error);
        }
        return new KlRowsResult(loss, grad);
    }

    /** {@link Kernels#topkLogprobs(Tensor, double, int)}. */
    static TopkLogprobs topkLogprobs(Tensor logits, double temperature, int k) {
        long[] rv = KernelArgs.logits("logits", logits);
        int dtype = KernelArgs.dtypeCode("logits", logits);
        long rows = rv[0], vocab = rv[1];
        if (k < 1 || k >= vocab) {
            throw new InvalidArgumentException("k", "must be in [1, " + vocab + "), got " + k);
        }
        KernelArgs.temperature(temperature);
        Tensor ids = logits.new_empty(new long[] {rows, k}, Torch.options(torch.ScalarType.Int));
        Tensor logp = logits.new_empty(new long[] {rows, k}, Torch.options(torch.ScalarType.Float));
        Tensor logRest = logits.new_empty(new long[] {rows}, Torch.options(torch.ScalarType.Float));
        if (logits.is_meta() || rows == 0) {
            return new TopkLogprobs(ids, logp, logRest);  // shape-only tensors or no rows: arguments checked, no work
        }
        long[] p = {logits.data_ptr().address(), ids.data_ptr().address(), logp.data_ptr().address(), logRest.data_ptr().address()};
        if (!logits.is_cuda()) {
            Status.check(IvkitNative.ivkit_topk_logprobs(p[0], rows, vocab, dtype, (float) temperature, k, p[1], p[2], p[3],
                    torch.get_num_threads()), IvkitNative::ivkit_last_error);
        } else {
            Status.check(IvkitCudaNative.ivkit_cuda_topk_logprobs(p[0], rows, vocab, dtype, (float) temperature, k, p[1], p[2],
                    p[3], Cuda.requireStream(logits)), IvkitCudaNative::ivkit_cuda_last_error);
        }
        return new TopkLogprobs(ids, logp, logRest);
    }
}
