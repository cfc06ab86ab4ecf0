package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import dev.ivkit.testutil.Compare;
import dev.ivkit.util.Torch;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** add_rows against an independent libtorch composite: x.index_put_(rows, x[rows] + scale * scales[:,None] * v). */
class AddRowsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(torch.ScalarType.Float, 7, 123, 5, true, true),
                Arguments.of(torch.ScalarType.Float, 1, 1, 1, false, false),
                Arguments.of(torch.ScalarType.Float, 300, 64, 300, true, false),
                Arguments.of(torch.ScalarType.BFloat16, 9, 131, 4, true, true),
                Arguments.of(torch.ScalarType.BFloat16, 64, 257, 33, false, true),
                Arguments.of(torch.ScalarType.Half, 11, 77, 6, true, true));
    }

    /**
     * The composite computes in fp32 and rounds once, which is the kernel's contract; so the comparison is bit-exact
     * in every dtype.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void matchesComposite(torch.ScalarType dtype, int nRows, int d, int n, boolean perRowV, boolean withScales) {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(nRows * 31L + d);
            Tensor x = torch.randn(nRows, d).to(dtype);
            Tensor rows = torch.randperm(nRows).narrow(0, 0, n).contiguous();
            Tensor v = (perRowV ? torch.randn(n, d) : torch.randn(d)).to(dtype);
            Tensor scales = withScales ? torch.rand(n).sub(new Scalar(0.5)).mul(new Scalar(4.0)) : null;
            float scale = 1.75f;

            Tensor factor = (withScales ? scales : torch.ones(n)).mul(new Scalar(scale)).unsqueeze(1);  // [n, 1]
            Tensor vRows = perRowV ? v.to(torch.ScalarType.Float) : v.to(torch.ScalarType.Float).unsqueeze(0).expand(n, d);
            Tensor expected = x.to(torch.ScalarType.Float).clone();
            Tensor updated = expected.index_select(0, rows).add(vRows.mul(factor));
            expected.index_copy_(0, rows, updated);
            expected = expected.to(dtype);

            Kernels.addRowsInPlace(x, rows, v, scales, scale);
            assertEquals(dtype, Torch.dtype(x));
            Compare.assertBitEqual(expected, x, "add_rows " + dtype + " [" + nRows + "," + d + "] n=" + n);
        }
    }

    @Test
    void acceptsBatchPosLayout() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.zeros(2, 3, 4);                 // [batch, pos, d]
            Tensor rows = Torch.fromLongs(0 * 3 + 2, 1 * 3 + 0);  // batch 0 pos 2, batch 1 pos 0
            Tensor v = torch.ones(4);
            Kernels.addRowsInPlace(x, rows, v, null, 2f);
            float[] out = Torch.toFloatArray(x);
            assertEquals(2f, out[(0 * 3 + 2) * 4 + 1]);
            assertEquals(2f, out[(1 * 3 + 0) * 4 + 3]);
            assertEquals(16f, x.sum().item_float());         // nothing else touched
        }
    }

    @Test
    void invalidArgumentsAreTypedErrors() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.zeros(4, 8);
            Tensor v = torch.ones(8);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.addRowsInPlace(x, Torch.fromLongs(4), v, null, 1f));
            assertEquals("rows", e.field());
            assertTrue(e.getMessage().contains("out of range"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.addRowsInPlace(x, Torch.fromLongs(1, 1), v, null, 1f));
            assertTrue(e.getMessage().contains("twice"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.addRowsInPlace(x, Torch.fromLongs(-1), v, null, 1f));
            assertEquals("rows", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.addRowsInPlace(x, Torch.fromLongs(0), torch.ones(7), null, 1f));
            assertEquals("v", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.addRowsInPlace(x, Torch.fromLongs(0), torch.ones(8).to(torch.ScalarType.BFloat16), null, 1f));
            assertEquals("v", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.addRowsInPlace(torch.zeros(4, 8).to(torch.ScalarType.Double), Torch.fromLongs(0),
                            torch.ones(8).to(torch.ScalarType.Double), null, 1f));
            assertEquals("x", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.addRowsInPlace(x, Torch.fromLongs(0), v, torch.ones(2), 1f));
            assertEquals("scales", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.addRowsInPlace(x.t(), Torch.fromLongs(0), torch.ones(4), null, 1f));
            assertEquals("x", e.field());
            assertEquals(0f, x.sum().item_float(), "a rejected call must not touch x");
        }
    }

    @Test
    void nativeChecksTheSameContract() {
        // The C ABI re-checks what Java validated: a direct call with an out-of-range row fails with a message.
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.zeros(2, 3);
            Tensor v = torch.ones(3);
            Tensor rows = Torch.fromLongs(5);
            int code = IvkitNative.ivkit_add_rows(x.data_ptr().address(), 2, 3, 0, v.data_ptr().address(), 0,
                    rows.data_ptr().address(), 0, 1, 1f);
            assertEquals(Status.INVALID_ARGUMENT, Status.of(code));
            assertTrue(IvkitNative.ivkit_last_error().contains("rows[0]=5"), IvkitNative.ivkit_last_error());
            assertEquals(Status.INVALID_ARGUMENT, Status.of(IvkitNative.ivkit_add_rows(x.data_ptr().address(), 2, 3, 9,
                    v.data_ptr().address(), 0, rows.data_ptr().address(), 0, 1, 1f)));
            assertTrue(IvkitNative.ivkit_last_error().contains("dtype"));
        }
    }

    @Test
    void cudaIsLoudWhenUnavailable() {
        if (Cuda.available()) {
            return; // covered by AddRowsCudaTest on GPU machines
        }
        assertTrue(Cuda.reason() != null && !Cuda.reason().isBlank());
        UnsupportedException e = assertThrows(UnsupportedException.class, () -> Cuda.requireStream(torch.zeros(1)));
        assertTrue(e.getMessage().contains("CUDA"));
    }

    @Test
    void versionMatchesBuild() {
        assertTrue(Kernels.nativeVersion().startsWith("0."), Kernels.nativeVersion());
        Kernels.noop();
    }
}
