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

    /**
     * Checks the type and index.
     *
     * @param type  "cpu" or "cuda"
     * @param index the CUDA device index, 0 for the CPU
     * @throws InvalidArgumentException ({@code "device"}) for another type or a bad index
     */
    public Device {
        if (!"cpu".equals(type) && !"cuda".equals(type) && !"meta".equals(type)) {
            throw new InvalidArgumentException("device", "unknown device type '" + type + "' (cpu, cuda, cuda:N)");
        }
        if (index < 0 || !"cuda".equals(type) && index != 0) {
            throw new InvalidArgumentException("device", "bad device index " + index + " for " + type);
        }
    }

    /**
     * CUDA device {@code index}.
     *
     * @param index the device index, at least 0
     * @return the device
     */
    public static Device cuda(int index) {
        return new Device("cuda", index);
    }

    /**
     * Parses cpu, cuda or cuda:N.
     *
     * @param s {@code cpu}, {@code cuda} or {@code cuda:N} (case and surrounding spaces ignored)
     * @return the device
     * @throws InvalidArgumentException ({@code "device"}) for anything else
     */
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

    /**
     * Whether this is the shape-only {@link #META} device.
     *
     * @return true for meta
     */
    public boolean isMeta() {
        return type.equals("meta");
    }

    /**
     * Whether this is a CUDA device.
     *
     * @return true for cuda and cuda:N
     */
    public boolean isCuda() {
        return type.equals("cuda");
    }

    /**
     * Throws when this device cannot be used here: CUDA without a GPU, the CUDA kernels or CUDA libtorch.
     *
     * @return this device
     * @throws UnsupportedException when CUDA is requested but unavailable
     * @throws InvalidArgumentException when the CUDA index is not a visible device
     */
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

    /**
     * libtorch's device.
     *
     * @return libtorch's equivalent of this device
     */
    public org.bytedeco.pytorch.Device torch() {
        return new org.bytedeco.pytorch.Device(toString());
    }

    /**
     * The device a tensor lives on.
     *
     * @param t a CPU, CUDA or meta tensor
     * @return the tensor's device (cpu, cuda:N or meta)
     */
    public static Device of(org.bytedeco.pytorch.Tensor t) {
        return t.is_cuda() ? cuda(t.device().index()) : t.is_meta() ? META : CPU;
    }

    @Override
    public String toString() {
        return isCuda() ? "cuda:" + index : type;
    }
}
