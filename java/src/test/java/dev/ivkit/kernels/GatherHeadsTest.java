package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** gather_heads against libtorch composites: z.reshape(b*t, h, d).index_select(0, b*t + pos), and its fp32 sum. */
class GatherHeadsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of(torch.ScalarType.Float, 5, 7, 3, 123), Arguments.of(torch.ScalarType.Float, 1, 1, 1, 1),
                Arguments.of(torch.ScalarType.Float, 257, 3, 4, 16), Arguments.of(torch.ScalarType.BFloat16, 6, 9, 5, 123),
                Arguments.of(torch.ScalarType.Half, 3, 4, 2, 64));
    }

    static Tensor composite(Tensor z, Tensor positions) {
        long b = z.size(0), t = z.size(1);
        Tensor rows = torch.arange(new org.bytedeco.pytorch.Scalar(0), new org.bytedeco.pytorch.Scalar(b))
                .mul(new org.bytedeco.pytorch.Scalar(t)).add(positions);
        return z.reshape(b * t, z.size(2), z.size(3)).index_select(0, rows);
    }

    /** A random [b, t, h, d] tensor of {@code dtype} and one random position per row, drawn after {@code seed}. */
    record Input(Tensor z, Tensor pos) {
        static Input draw(long seed, torch.ScalarType dtype, int b, int t, int h, int d) {
            torch.manual_seed(seed);
            Tensor z = torch.randn(b, t, h, d).to(dtype);
            return new Input(z, torch.randint(t, new long[] {b}));
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gatherMatchesIndexSelect(torch.ScalarType dtype, int b, int t, int h, int d) {
        try (PointerScope s = new PointerScope()) {
            Input in = Input.draw(b * 7L + d, dtype, b, t, h, d);
            Tensor z = in.z(), pos = in.pos();
            Tensor got = Kernels.gatherHeads(z, pos);
            assertEquals(dtype, Torch.dtype(got));
            Compare.assertBitEqual(composite(z, pos), got, "gather " + dtype);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void accumulateMatchesFloatSum(torch.ScalarType dtype, int b, int t, int h, int d) {
        try (PointerScope s = new PointerScope()) {
            Input in = Input.draw(b * 13L + d, dtype, b, t, h, d);
            Tensor z = in.z(), pos = in.pos();
            Tensor acc = torch.randn(h, d);
            Tensor expected = acc.clone();
            Tensor rows = composite(z, pos).to(torch.ScalarType.Float);       // [b, h, d]
            for (int i = 0; i < b; i++) {
                expected = expected.add(rows.select(0, i));                   // batch order, as the kernel sums
            }
            Kernels.gatherHeadsAccumulate(z, pos, acc);
            Compare.assertBitEqual(expected, acc, "accumulate " + dtype);
        }
    }

    @Test
    void invalidArguments() {
        try (PointerScope s = new PointerScope()) {
            Tensor z = torch.zeros(2, 3, 4, 5);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Kernels.gatherHeads(z, Torch.fromLongs(0, 3)));
            assertEquals("positions", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.gatherHeads(z, Torch.fromLongs(0)));
            assertEquals("positions", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.gatherHeads(torch.zeros(2, 3, 20), Torch.fromLongs(0, 1)));
            assertEquals("z", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.gatherHeads(z.transpose(1, 2), Torch.fromLongs(0, 1)));
            assertEquals("z", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.gatherHeadsAccumulate(z, Torch.fromLongs(0, 1), torch.zeros(4, 6)));
            assertEquals("acc", e.field());
        }
    }
}
