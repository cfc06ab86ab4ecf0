package dev.ivkit.util;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU probe behind {@link ReducedMatmul#cpuHasBf16Gemm()} on hand-written cpuinfo files. */
class ReducedMatmulProbeTest {
    @Test
    void readsTheBf16FlagsOfTheFirstFlagsLine(@TempDir Path tmp) throws Exception {
        Path amx = Files.writeString(tmp.resolve("amx"), "processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile\n");
        Path avx = Files.writeString(tmp.resolve("avx"), "flags\t: fpu avx512f avx512_bf16\nflags\t: fpu\n");
        Path none = Files.writeString(tmp.resolve("none"), "flags\t: fpu avx2 avx512f avx512_bf16x\n");   // not the flag
        Path noFlags = Files.writeString(tmp.resolve("arm"), "Features\t: fp asimd bf16\n");
        assertTrue(ReducedMatmul.probeCpu(amx));
        assertTrue(ReducedMatmul.probeCpu(avx));
        assertFalse(ReducedMatmul.probeCpu(none));
        assertFalse(ReducedMatmul.probeCpu(noFlags));
        assertFalse(ReducedMatmul.probeCpu(tmp.resolve("missing")), "unreadable: IEEE products");
    }
}
