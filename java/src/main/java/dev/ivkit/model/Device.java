package dev.ivkit.model;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.kernels.Cuda;

/**
 * Where a model's weights and every tensor its stages create live: {@code cpu}, {@code cuda} (device 0) or
 * {@code cuda:N}. {@link #requireAvailable()} turns a CUDA request on a host without a usable GPU into an
 * {@link UnsupportedException} that says why ({@link Cuda#reason()}), never a silent CPU run.
 *
 * @param type  "cpu" or "cuda"
 * @param index the CUDA device index (0 for cpu)
 */
public record Device(String type, int index) {
    /** The CPU. */
    public static final Device CPU = new Device("cpu", 0);
    /**
     * libtorch's {@code meta} device: tensors with shapes and dtypes but no data. Used by the device-hygiene test
     * (a tensor created on the wrong device fails with "Expected all tensors to be on the same device" without a GPU);
     * host reads of values are impossible there, so stages skip their host-side checks and return placeholders.
     */
    public static final Device META = new Device("meta", 0);

    public Device {
        if (!"cpu".equals(type) && !"cuda".equals(type) && !"meta".equals(type)) {
            throw new InvalidArgumentException("device", "unknown device type '" + type + "' (cpu, cuda, cuda:N)");
        }
        if (index < 0 || !"cuda".equals(type) && index != 0) {
            throw new InvalidArgumentException("device", "bad device index " + index + " for " + type);
        }
    }

    /** CUDA device {@code index}. */
    public static Device cuda(int index) {
        return new Device("cuda", index);
    }

    /** Parses cpu, cuda or cuda:N. */
    public static Device parse(String s) {
        if (s == null || s.isBlank()) {
            throw new InvalidArgumentException("device", "empty device (cpu, cuda, cuda:N)");
        }
        String v = s.strip().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("cpu")) {
            return CPU;
        }
        if (v.equals("cuda")) {
            return cuda(0);
        }
        if (v.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(v.substring(5)));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("device", "bad CUDA device index in '" + s + "' (cuda:N)");
            }
        }
        throw new InvalidArgumentException("device", "unknown device '" + s + "' (cpu, cuda, cuda:N)");
    }

    /** @return true for the shape-only {@link #META} device */
    public boolean isMeta() {
        return type.equals("meta");
    }

    /** @return true for a CUDA device */
    public boolean isCuda() {
        return type.equals("cuda");
    }

    /** Throws when this device cannot be used here: CUDA without a GPU, the CUDA kernels or CUDA libtorch. */
    public Device requireAvailable() {
        if (isCuda()) {
            String why = Cuda.reason();
            if (why != null) {
                throw new UnsupportedException("--device " + this + ": CUDA is unavailable: " + why);
            }
            long n = org.bytedeco.pytorch.global.torch.cuda_device_count();
            if (index >= n) {
                throw new InvalidArgumentException("device", this + " does not exist: " + n + " CUDA device(s) visible");
            }
        }
        return this;
    }

    /** libtorch's device. */
    public org.bytedeco.pytorch.Device torch() {
        return new org.bytedeco.pytorch.Device(toString());
    }

    /** The device a tensor lives on (cpu, cuda:N or meta). */
    public static Device of(org.bytedeco.pytorch.Tensor t) {
        return t.is_cuda() ? cuda(t.device().index()) : t.is_meta() ? META : CPU;
    }

    @Override
    public String toString() {
        return isCuda() ? "cuda:" + index : type;
    }
}
