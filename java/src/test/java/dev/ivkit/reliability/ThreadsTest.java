package dev.ivkit.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.hooks.HookPlan;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LogitsMode;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.testutil.SharedData;
import dev.ivkit.util.Torch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A {@link LlamaModel} is confined to one thread: a forward entered while another thread's runs fails with a clear
 * {@link IllegalStateException} (and never returns wrong numbers); separate models in separate threads give exactly
 * the logits of sequential runs.
 */
class ThreadsTest {
    static Path bin;

    @BeforeAll
    static void init() {
        Torch.init();
        bin = SharedData.stories260K().resolve("stories260K.bin");
    }

    /** Token ids from a Java RNG (torch's generator is global: threads seeding it would race). */
    static Tensor tokens(long seed, int batch, int seq) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        long[] ids = new long[batch * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(512);
        }
        return Torch.fromLongs(ids).reshape(batch, seq);
    }

    static float[] logits(LlamaModel m, long seed) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            return Torch.toFloatArray(m.forward(tokens(seed, 2, 48), null, HookPlan.empty(), null, LogitsMode.ALL).logits());
        }
    }

    @Test
    void oneModelFromTwoThreadsAtOnceFailsClearly() throws Exception {
        float[] expected;
        List<Throwable> errors = new ArrayList<>();
        ConcurrentLinkedQueue<String> refused = new ConcurrentLinkedQueue<>();
        try (LlamaModel m = ModelLoader.load(bin, null)) {
            expected = logits(m, 7);
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch start = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                fs.add(pool.submit(() -> {
                    start.await();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!stop.get() && System.nanoTime() < deadline) {
                        try {
                            float[] got = logits(m, 7);
                            assertArrayEquals(expected, got, "a forward that was let through must be exact");
                        } catch (IllegalStateException e) {
                            refused.add(e.getMessage());
                            if (refused.size() >= 3) {
                                stop.set(true);
                            }
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : fs) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    errors.add(e.getCause());
                }
            }
            pool.shutdownNow();
            // the model still works from one thread afterwards
            assertArrayEquals(expected, logits(m, 7));
        }
        assertEquals(List.of(), errors, "only IllegalStateException may come out of a concurrent forward");
        assertTrue(!refused.isEmpty(), "two threads hammering one model for 30 s never collided");
        for (String msg : refused) {
            assertEquals("LlamaModel is confined to one thread: a forward is already running", msg);
        }
    }

    @Test
    void separateModelsInSeparateThreadsMatchSequentialRuns() throws Exception {
        int n = 3;
        long[] seeds = {11, 12, 13};
        float[][] sequential = new float[n][];
        for (int i = 0; i < n; i++) {
            try (LlamaModel m = ModelLoader.load(bin, null)) {
                sequential[i] = logits(m, seeds[i]);
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<float[][]>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seed = seeds[i];
            fs.add(pool.submit(() -> {
                try (LlamaModel m = ModelLoader.load(bin, null)) {
                    start.await();
                    float[][] runs = new float[5][];
                    for (int r = 0; r < runs.length; r++) {
                        runs[r] = logits(m, seed);
                    }
                    return runs;
                }
            }));
        }
        start.countDown();
        for (int i = 0; i < n; i++) {
            for (float[] run : fs.get(i).get(120, TimeUnit.SECONDS)) {
                assertArrayEquals(sequential[i], run, "thread " + i + " differs from the sequential run");
            }
        }
        pool.shutdown();
    }
}
