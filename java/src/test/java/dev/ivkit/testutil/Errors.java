package dev.ivkit.testutil;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ivkit.InvalidArgumentException;
import org.junit.jupiter.api.function.Executable;

/** Assertions on ivkit's typed errors. */
public final class Errors {
    private Errors() {}

    /** {@code call} throws an {@link InvalidArgumentException} naming {@code field}; returns it for more checks. */
    public static InvalidArgumentException assertField(String field, Executable call) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertEquals(field, e.field(), e.getMessage());
        return e;
    }
}
