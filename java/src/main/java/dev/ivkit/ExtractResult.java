package dev.ivkit;

import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.ScanFile;
import dev.ivkit.iv.ScanScores;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@link IvkitModel#extractIv} found: the instruction vector, the scan it came from and the heads it sums.
 * Owns the vector's native memory: close it (or the vector) when done; the vector may be passed to
 * {@link TrainOptions.Builder#iv} before that.
 */
public final class ExtractResult implements AutoCloseable {
    private final InstructionVector iv;
    private final ScanScores scores;
    private final double[][] rankingScores;
    private final int layer;
    private final int meanPromptsUsed;
    private final int skippedPrompts;
    private final ScanFile scan;

    ExtractResult(InstructionVector iv, ScanScores scores, double[][] rankingScores, int layer, int meanPromptsUsed,
            int skippedPrompts, ScanFile scan) {
        this.iv = iv;
        this.scores = scores;
        this.rankingScores = rankingScores;
        this.layer = layer;
        this.meanPromptsUsed = meanPromptsUsed;
        this.skippedPrompts = skippedPrompts;
        this.scan = scan;
    }

    /** @return the instruction vector ([d_model] float32, its mean z, scores, heads and provenance metadata) */
    public InstructionVector iv() {
        return iv;
    }

    /** @return the selected heads, best first, each with its ranking score */
    public List<HeadRanking.Head> topHeads() {
        return iv.heads();
    }

    /** @return every scanned prompt's Δprob and ΔNLL per head, and its unpatched probability and NLL */
    public ScanScores scores() {
        return scores;
    }

    /** @return the [layer][head] scores heads were ranked by (mean Δprob, or −mean ΔNLL); a copy */
    public double[][] rankingScores() {
        double[][] c = new double[rankingScores.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = rankingScores[i].clone();
        }
        return c;
    }

    /** @return the layer the vector is meant for (also in its metadata under "layer") */
    public int layer() {
        return layer;
    }

    /** @return prompts scanned (those that fit the context) */
    public int promptsScanned() {
        return scores.prompts();
    }

    /** @return prompts averaged for the mean activations (those that fit the context) */
    public int meanPromptsUsed() {
        return meanPromptsUsed;
    }

    /** @return prompts of both sets left out because they are longer than the model's context */
    public int skippedPrompts() {
        return skippedPrompts;
    }

    /**
     * @return the scan the vector came from, as {@code scan.json} holds it (written to the work folder when the options
     *         have one; {@link ScanFile#write} writes it anywhere)
     */
    public ScanFile scan() {
        return scan;
    }

    /**
     * Writes the vector as {@code ivkit extract} does ({@code dir/iv.safetensors}, {@code dir/iv.json}), for the
     * CLI's {@code evaluate} and {@code train --iv}.
     *
     * @param dir output folder (created)
     */
    public void save(Path dir) {
        iv.save(dir);
    }

    /** Frees the vector's native memory. */
    @Override
    public void close() {
        iv.close();
    }
}
