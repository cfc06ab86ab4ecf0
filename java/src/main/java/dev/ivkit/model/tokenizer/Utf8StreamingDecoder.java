package dev.ivkit.model.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Incremental UTF-8 decoding of raw bytes: complete characters come out as soon as their last byte arrives, an
 * incomplete trailing sequence is kept for the next call, invalid bytes become U+FFFD.
 */
final class Utf8StreamingDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private byte[] pending = new byte[0];

    /** Appends {@code bytes}; returns the characters that are now complete. */
    String feed(byte[] bytes) {
        return decode(bytes, false);
    }

    /** Returns what is left (incomplete sequences as U+FFFD) and resets. */
    String flush() {
        String s = decode(new byte[0], true);
        decoder.reset();
        return s;
    }

    private String decode(byte[] bytes, boolean end) {
        byte[] all = new byte[pending.length + bytes.length];
        System.arraycopy(pending, 0, all, 0, pending.length);
        System.arraycopy(bytes, 0, all, pending.length, bytes.length);
        ByteBuffer in = ByteBuffer.wrap(all);
        CharBuffer out = CharBuffer.allocate(all.length + 1);
        decoder.decode(in, out, end);
        if (end) {
            decoder.flush(out);
        }
        pending = new byte[in.remaining()];
        in.get(pending);
        out.flip();
        return out.toString();
    }
}
