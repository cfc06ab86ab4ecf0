package dev.ivkit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.testutil.SharedData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SplitsTest {

    private static TaskDataset synthetic(int n) {
        List<TaskExample> xs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            xs.add(new TaskExample("in" + i, "out" + i));
        }
        return new TaskDataset("synthetic", null, xs, null);
    }

    /** The three parts are disjoint by object identity and cover every example of the dataset once. */
    private static void assertPartition(TaskDataset d, Splits s) {
        Set<TaskExample> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (List<TaskExample> part : List.of(s.train(), s.valid(), s.test())) {
            for (TaskExample x : part) {
                assertTrue(seen.add(x), "example in two parts or twice: " + x);
            }
        }
        Set<TaskExample> all = Collections.newSetFromMap(new IdentityHashMap<>());
        all.addAll(d.examples());
        assertEquals(all, seen);
    }

    @Test
    void antonymSizesFollowScikitLearnRounding() {
        TaskDataset d = TaskDataset.loadFunctionVector(SharedData.require("function_vectors/abstractive/antonym.json"));
        Splits s = d.split(0.3, 42);
        // held = ceil(0.3 * 2398) = 720; valid = ceil(0.3 * 720) = 216; test = 504
        assertEquals(1678, s.train().size());
        assertEquals(216, s.valid().size());
        assertEquals(504, s.test().size());
        assertPartition(d, s);
    }

    @Test
    void countryCapitalSizes() {
        TaskDataset d = TaskDataset.loadFunctionVector(
                SharedData.require("function_vectors/abstractive/country-capital.json"));
        Splits s = d.split(0.3, 42);
        // held = ceil(59.1) = 60; valid = ceil(18.0) = 18; test = 42; train = 137
        assertEquals(137, s.train().size());
        assertEquals(18, s.valid().size());
        assertEquals(42, s.test().size());
        assertPartition(d, s);
        // [FVF]: the held-out part is halved
        Splits f = d.split(0.3, 0.5, 43);
        assertEquals(137, f.train().size());
        assertEquals(30, f.valid().size());
        assertEquals(30, f.test().size());
        assertPartition(d, f);
    }

    @Test
    void deterministicPerSeedAndDifferentAcrossSeeds() {
        TaskDataset d = synthetic(1000);
        Splits a = d.split(0.3, 42);
        Splits b = d.split(0.3, 42);
        assertEquals(a, b);
        Splits c = d.split(0.3, 43);
        assertNotEquals(a.train(), c.train());
        assertEquals(700, a.train().size());
        assertEquals(90, a.valid().size());
        assertEquals(210, a.test().size());
        assertPartition(d, a);
        // shuffled, not a prefix of the file
        assertNotEquals(d.examples().subList(0, 700), a.train());
    }

    @Test
    void tooSmallOrBadFractions() {
        assertThrows(InvalidArgumentException.class, () -> synthetic(3).split(0.3, 42));
        assertEquals("testSize", assertThrows(InvalidArgumentException.class,
                () -> synthetic(100).split(0.0, 42)).field());
        assertEquals("testSize", assertThrows(InvalidArgumentException.class,
                () -> synthetic(100).split(1.0, 42)).field());
        assertEquals("validFraction", assertThrows(InvalidArgumentException.class,
                () -> synthetic(100).split(0.3, Double.NaN, 42)).field());
        Splits s = synthetic(10).split(0.3, 1);
        assertEquals(7, s.train().size());
        assertEquals(1, s.valid().size());
        assertEquals(2, s.test().size());
    }
}
