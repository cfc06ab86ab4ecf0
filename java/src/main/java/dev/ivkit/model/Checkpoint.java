package dev.ivkit.model;

import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A loaded checkpoint: its configuration and its weights under {@link WeightNames} (CPU tensors, in the file's dtype
 * unless converted). The caller owns the tensors.
 *
 * @param source the file or directory it came from
 */
public record Checkpoint(ModelConfig config, Map<String, Tensor> weights, Path source) {}
