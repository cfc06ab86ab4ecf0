package dev.ivkit.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Work done per measured call, reported by JMH next to the primary score as rates (tokens/s, flop/s) in Throughput
 * mode: each benchmark adds its per-call amounts once per call.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Work {
    public long tokens;
    public long flops;

    @Setup(Level.Iteration)
    public void reset() {
        tokens = 0;
        flops = 0;
    }

    void add(long tokens, long flops) {
        this.tokens += tokens;
        this.flops += flops;
    }
}
