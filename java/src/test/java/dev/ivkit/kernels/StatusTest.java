package dev.ivkit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** Native index errors become InvalidArgumentExceptions naming the Java argument the message indexes. */
class StatusTest {
    @Test
    void fieldIsTheIndexedArgumentOfTheNativeMessage() {
        assertEquals("rows", Status.fieldOf("add_rows: rows[2]=9 is out of range [0, 4)"));
        assertEquals("heads", Status.fieldOf("patch_heads: heads[0]: patch targets (row 0, position 1, head 2) twice"));
        assertEquals("positions", Status.fieldOf("gather_heads (cuda): positions[1]=-1 is out of range [0, 8)"));
        assertNull(Status.fieldOf("kl_rows: temperature must be finite and > 0, got 0"));
        assertNull(Status.fieldOf(null));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Status.check(Status.INVALID_ARGUMENT.ordinal(), () -> "add_rows: rows[1]=7 is selected twice"));
        assertEquals("rows", e.field());
        assertEquals("rows: add_rows: rows[1]=7 is selected twice", e.getMessage());
    }
}
