package dev.ivkit;

import java.nio.file.Path;

/**
 * How {@link Ivkit#open(Path, OpenOptions)} loads a model: compute dtype, tokenizer file and device. Built with
 * {@link #builder()}; every setting has a default (the checkpoint's dtype, the tokenizer next to the model, the CPU).
 * Immutable.
 */
public final class OpenOptions {
    /** Compute dtype of the model's weights. */
    public enum Dtype {
        /** float32 */
        FP32("fp32"),
        /** bfloat16 (norms, softmax, losses and LoRA weights stay float32) */
        BF16("bf16"),
        /** float16 */
        FP16("fp16");

        private final String cliName;

        Dtype(String cliName) {
            this.cliName = cliName;
        }

        /** @return the CLI's name of this dtype ({@code --dtype}) */
        public String cliName() {
            return cliName;
        }
    }

    private final Dtype dtype;
    private final Path tokenizer;
    private final String device;

    private OpenOptions(Builder b) {
        this.dtype = b.dtype;
        this.tokenizer = b.tokenizer;
        this.device = b.device;
    }

    /** @return a builder with every default */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the defaults: checkpoint dtype, tokenizer next to the model, CPU */
    public static OpenOptions defaults() {
        return builder().build();
    }

    /** @return the compute dtype, or null for the checkpoint's own */
    public Dtype dtype() {
        return dtype;
    }

    /** @return the tokenizer file, or null to look next to the model */
    public Path tokenizer() {
        return tokenizer;
    }

    /** @return "cpu", "cuda" or "cuda:N" */
    public String device() {
        return device;
    }

    /** Builder of {@link OpenOptions}. */
    public static final class Builder {
        private Dtype dtype;
        private Path tokenizer;
        private String device = "cpu";

        private Builder() {}

        /**
         * @param dtype compute dtype; null (the default) keeps the checkpoint's
         * @return this builder
         */
        public Builder dtype(Dtype dtype) {
            this.dtype = dtype;
            return this;
        }

        /**
         * @param tokenizer tokenizer file ({@code tok512.bin}, {@code tokenizer.bin}, {@code tokenizer.json}); null
         *                  (the default) takes the first of {@code tokenizer.json}, {@code tokenizer.bin},
         *                  {@code tok512.bin}, {@code tok32000.bin} next to the model
         * @return this builder
         */
        public Builder tokenizer(Path tokenizer) {
            this.tokenizer = tokenizer;
            return this;
        }

        /**
         * @param device "cpu" (the default), "cuda" or "cuda:N"; CUDA without a usable GPU fails at
         *               {@link Ivkit#open} saying why
         * @return this builder
         */
        public Builder device(String device) {
            if (device == null || device.isBlank()) {
                throw new InvalidArgumentException("device", "must be cpu, cuda or cuda:N");
            }
            this.device = device;
            return this;
        }

        /** @return the options */
        public OpenOptions build() {
            return new OpenOptions(this);
        }
    }
}
