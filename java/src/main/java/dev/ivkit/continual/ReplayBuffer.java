package dev.ivkit.continual;

import dev.ivkit.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Experience replay: after each task a seeded sample of up to {@code perTask} of its training examples is kept; the
 * next task's training set is its own examples plus {@code round(ratio · n)} examples drawn (seeded, without
 * replacement while possible) from everything kept so far. The trainer shuffles the union, so replayed examples are
 * mixed into the batches. Every draw depends only on (seed, task index) and the buffer's contents, so a resumed run
 * that rebuilds the buffer from the same tasks draws the same examples.
 */
public final class ReplayBuffer<T> {
    private final long seed;
    private final int perTask;
    private final List<T> kept = new ArrayList<>();

    public ReplayBuffer(long seed, int perTask) {
        if (perTask < 0) {
            throw new InvalidArgumentException("replay_per_task", "must be >= 0, got " + perTask);
        }
        this.seed = seed;
        this.perTask = perTask;
    }

    /** Keeps a seeded sample of task {@code taskIndex}'s examples. */
    public void add(int taskIndex, List<T> examples) {
        List<T> copy = new ArrayList<>(examples);
        Collections.shuffle(copy, new Random(seed * 1_000_003L + 17L * taskIndex + 1));
        kept.addAll(copy.subList(0, Math.min(perTask, copy.size())));
    }

    public List<T> contents() {
        return Collections.unmodifiableList(kept);
    }

    /** {@code current} followed by the replayed sample for task {@code taskIndex}. */
    public List<T> mix(int taskIndex, List<T> current, double ratio) {
        List<T> out = new ArrayList<>(current);
        int want = (int) Math.round(ratio * current.size());
        if (kept.isEmpty() || want <= 0) {
            return out;
        }
        Random rng = new Random(seed * 7_919L + 31L * taskIndex + 5);
        List<T> pool = new ArrayList<>(kept);
        for (int i = 0; i < want; i++) {
            if (i % pool.size() == 0) {
                Collections.shuffle(pool, rng);
            }
            out.add(pool.get(i % pool.size()));
        }
        return out;
    }
}
