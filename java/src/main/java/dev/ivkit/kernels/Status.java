package dev.ivkit.kernels;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.UnsupportedException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Status codes of native/include/ivkit/ivkit.h, and the one place where they become exceptions. */
enum Status {
    OK, INVALID_ARGUMENT, OUT_OF_MEMORY, CUDA, UNSUPPORTED, INTERNAL;

    static Status of(int code) {
        Status[] all = values();
        return code >= 0 && code < all.length ? all[code] : INTERNAL;
    }

    /** Native index checks read "op: field[i]=…" (native/src/ops/*_cpu.cpp); the field is the argument's Java name. */
    private static final Pattern INDEXED_FIELD = Pattern.compile("^[a-z_]+(?: \\(cuda\\))?: ([a-z_]+)\\[");

    /** The argument a native message names as "op: field[i]…", or null. */
    static String fieldOf(String text) {
        Matcher m = text == null ? null : INDEXED_FIELD.matcher(text);
        return m != null && m.find() ? m.group(1) : null;
    }

    /** Throws the typed exception for a non-zero code; {@code message} reads the thread-local error text. */
    static void check(int code, Supplier<String> message) {
        if (code == 0) {
            return;
        }
        Status s = of(code);
        String text = message.get();
        switch (s) {
            case INVALID_ARGUMENT -> throw new InvalidArgumentException(fieldOf(text), text);
            case UNSUPPORTED -> throw new UnsupportedException(text);
            default -> throw new NativeException(s, text);
        }
    }
}
