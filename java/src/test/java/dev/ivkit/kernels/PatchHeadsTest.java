package dev.ivkit.kernels;

import dev.ivkit.PatchMode;
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

/** patch_heads against a libtorch composite: index_copy_ (REPLACE) / fp32 add then round (ADD) on flattened heads. */
class PatchHeadsTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    static Stream<Arguments> cases() {
        return Stream.of(Arguments.of(torch.ScalarType.Float, PatchMode.REPLACE, 4, 6, 5, 123, 7, true),
                Arguments.of(torch.ScalarType.Float, PatchMode.ADD, 4, 6, 5, 123, 7, false),
                Arguments.of(torch.ScalarType.Float, PatchMode.ADD, 64, 3, 8, 16, 300, true),
                Arguments.of(torch.ScalarType.BFloat16, PatchMode.REPLACE, 3, 5, 4, 123, 9, true),
                Arguments.of(torch.ScalarType.BFloat16, PatchMode.ADD, 3, 5, 4, 123, 9, true),
                Arguments.of(torch.ScalarType.Half, PatchMode.ADD, 2, 3, 3, 10, 5, false));
    }

    /**
     * One case's inputs, drawn with torch's generator after seeding it from the case: a random [b, t, h, d] tensor
     * {@code z} of {@code dtype}; {@code n} distinct (row, position, head) targets, as flat indices into [b * t * h]
     * and as the three coordinate vectors; the values patched in ([n, d] per patch, else one [d]).
     */
    record Case(Tensor z, Tensor flat, Tensor rows, Tensor positions, Tensor heads, Tensor values) {
        static Case draw(torch.ScalarType dtype, int b, int t, int h, int d, int n, boolean perPatch) {
            torch.manual_seed(b * 31L + n);
            Tensor z = torch.randn(b, t, h, d).to(dtype);
            Tensor flat = torch.randperm((long) b * t * h).narrow(0, 0, n).contiguous();
            long[] f = Torch.toLongArray(flat), r = new long[n], p = new long[n], hh = new long[n];
            for (int i = 0; i < n; i++) {
                r[i] = f[i] / ((long) t * h);
                p[i] = (f[i] / h) % t;
                hh[i] = f[i] % h;
            }
            Tensor values = (perPatch ? torch.randn(n, d) : torch.randn(d)).to(dtype);
            return new Case(z, flat, Torch.fromLongs(r), Torch.fromLongs(p), Torch.fromLongs(hh), values);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void patchMatchesComposite(torch.ScalarType dtype, PatchMode mode, int b, int t, int h, int d, int n, boolean perPatch) {
        try (PointerScope s = new PointerScope()) {
            Case c = Case.draw(dtype, b, t, h, d, n, perPatch);
            Tensor z = c.z(), flat = c.flat(), values = c.values();

            Tensor zf = z.to(torch.ScalarType.Float).reshape((long) b * t * h, d).clone();
            Tensor vf = perPatch ? values.to(torch.ScalarType.Float) : values.to(torch.ScalarType.Float).unsqueeze(0).expand(n, d);
            Tensor updated = mode == PatchMode.REPLACE ? vf : zf.index_select(0, flat).add(vf);
            zf.index_copy_(0, flat, updated);
            Tensor expected = zf.reshape(b, t, h, d).to(dtype);

            Kernels.patchHeadsInPlace(z, c.rows().contiguous(), c.positions().contiguous(), c.heads().contiguous(), values,
                    mode);
            Compare.assertBitEqual(expected, z, "patch " + mode + " " + dtype);
        }
    }

    @Test
    void invalidArguments() {
        try (PointerScope s = new PointerScope()) {
            Tensor z = torch.zeros(2, 3, 4, 5);
            Tensor v = torch.ones(5);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.patchHeadsInPlace(z, Torch.fromLongs(2), Torch.fromLongs(0), Torch.fromLongs(0), v, PatchMode.ADD));
            assertEquals("rows", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.patchHeadsInPlace(z, Torch.fromLongs(0), Torch.fromLongs(3), Torch.fromLongs(0), v, PatchMode.ADD));
            assertEquals("positions", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.patchHeadsInPlace(z, Torch.fromLongs(0), Torch.fromLongs(0), Torch.fromLongs(4), v, PatchMode.ADD));
            assertEquals("heads", e.field());
            e = assertThrows(InvalidArgumentException.class, () -> Kernels.patchHeadsInPlace(z, Torch.fromLongs(0, 0),
                    Torch.fromLongs(1, 1), Torch.fromLongs(2, 2), v, PatchMode.ADD));
            assertEquals("heads", e.field());
            e = assertThrows(InvalidArgumentException.class,
                    () -> Kernels.patchHeadsInPlace(z, Torch.fromLongs(0), Torch.fromLongs(0), Torch.fromLongs(0), torch.ones(6), PatchMode.ADD));
            assertEquals("values", e.field());
            assertEquals(0f, z.sum().item_float(), "rejected calls leave z untouched");
        }
    }
}
