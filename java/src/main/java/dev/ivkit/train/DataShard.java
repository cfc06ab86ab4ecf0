package dev.ivkit.train;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;

/**
 * Which examples rank r of N handles. Training: rank r takes the r-th contiguous slice of each global micro-batch
 * (sizes differ by at most one when the batch does not divide), so N ranks with micro-batch B together see exactly
 * the examples one process with micro-batch N·B sees, in the same order. Activation sums and scans: whole batches
 * (or prompts) round-robin, so every batch has the same composition, hence the same padding and the same numbers,
 * as in one process.
 *
 * @param rank      this process's index, 0 to {@code worldSize - 1}
 * @param worldSize the number of data-parallel processes
 */
public record DataShard(int rank, int worldSize) {
    /** The only shard of a single-process run. */
    public static final DataShard SINGLE = new DataShard(0, 1);

    /**
     * Checks the rank.
     *
     * @param rank      this process's index, 0 to {@code worldSize - 1}
     * @param worldSize the number of data-parallel processes
     * @throws InvalidArgumentException when {@code worldSize} is not positive or {@code rank} is out of range
     */
    public DataShard {
        if (worldSize <= 0 || rank < 0 || rank >= worldSize) {
            throw new InvalidArgumentException("rank", "need 0 <= rank < world size, got rank " + rank + " of " + worldSize);
        }
    }

    /**
     * This rank's contiguous slice of one global micro-batch: [⌊r·k/N⌋, ⌊(r+1)·k/N⌋).
     *
     * @param <T>         the element type
     * @param globalBatch the micro-batch of all ranks together, k elements
     * @return a view of this rank's slice (possibly empty)
     */
    public <T> List<T> slice(List<T> globalBatch) {
        int k = globalBatch.size();
        return globalBatch.subList((int) ((long) rank * k / worldSize), (int) ((long) (rank + 1) * k / worldSize));
    }

    /**
     * Whether item {@code i} (a batch or a prompt index) is this rank's under round-robin sharding.
     *
     * @param i the item's index
     * @return true when {@code i mod worldSize == rank}
     */
    public boolean owns(int i) {
        return i % worldSize == rank;
    }

    /**
     * The indices in [0, n) that rank {@code r} owns under round-robin sharding, in order.
     *
     * @param n         the number of items
     * @param r         the rank
     * @param worldSize the number of ranks
     * @return r, r + worldSize, r + 2·worldSize, … below n
     */
    public static List<Integer> roundRobin(int n, int r, int worldSize) {
        List<Integer> out = new ArrayList<>();
        for (int i = r; i < n; i += worldSize) {
            out.add(i);
        }
        return out;
    }
}
