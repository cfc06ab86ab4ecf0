package dev.ivkit.kernels;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import java.util.function.Supplier;

/** Status codes of native/include/ivkit/ivkit.h, and the one place where they become exceptions. */
public enum Status {
    OK, INVALID_ARGUMENT, OUT_OF_MEMORY, CUDA, UNSUPPORTED, INTERNAL;

    static Status of(int code) {
        Status[] all = values();
        return code >= 0 && code < all.length ? all[code] : INTERNAL;
    }

    /** Throws the typed exception for a non-zero code; {@code message} reads the thread-local error text. */
    static void check(int code, Supplier<String> message) {
        if (code == 0) {
            return;
        }
        Status s = of(code);
        String text = message.get();
        switch (s) {
            case INVALID_ARGUMENT -> throw new InvalidArgumentException(null, text);
            case UNSUPPORTED -> throw new UnsupportedException(text);
            default -> throw new NativeException(s, text);
        }
    }
}
