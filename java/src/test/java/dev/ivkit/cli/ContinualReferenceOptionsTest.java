package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ivkit continual --reference-cache / --reference-precision}: a bad value is one line naming the option, exit 2, nothing written. */
class ContinualReferenceOptionsTest {
    @Test
    void badValuesNameTheOption(@TempDir Path tmp) {
        String[][] cases = {{"--reference-cache", "-1", "reference-cache"}, {"--reference-precision", "half", "reference-precision"}};
        for (String[] c : cases) {
            Path out = tmp.resolve(c[2]);
            CliTest.Run r = CliTest.run("continual", "--spec", "builtin:seq1", "--model", "no-such-model", "--out", out.toString(),
                    c[0], c[1]);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(c[2]) && !r.err().contains("hyper."), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out), "nothing written");
        }
    }
}
