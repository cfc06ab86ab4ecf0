package dev.ivkit.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded mutator for binary files and JSON text: bit flips, byte sets, inserts, deletes, truncation, duplicated
 * ranges, little-endian length-field corruption (biased to the first 64 bytes, where the headers are) and JSON token
 * mutations (numbers to extreme values, strings emptied or retyped, structural characters dropped or repeated).
 * One to four mutations are stacked per input. The same seed gives the same inputs.
 */
final class Mutator {
    private static final long[] INTERESTING = {0, 1, -1, 2, 7, 8, 127, 128, 255, 256, 1 << 16, (1 << 24) + 1,
        Integer.MAX_VALUE, Integer.MIN_VALUE, 1L << 32, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, -8};
    private static final String[] JSON_VALUES = {"0", "-1", "1e308", "-1e308", "99999999999999999999999", "0.5", "NaN",
        "\"\"", "\"x\"", "null", "true", "[]", "{}", "[[]]", "{\"a\":{}}", "\"\\u0000\"", "\"\\ud800\"", "1e-400"};

    private final SplittableRandom rng;
    private final boolean text;

    Mutator(long seed, boolean text) {
        this.rng = new SplittableRandom(seed);
        this.text = text;
    }

    byte[] mutate(byte[] seed) {
        byte[] b = seed;
        int n = 1 + rng.nextInt(4);
        for (int i = 0; i < n; i++) {
            b = once(b);
        }
        return b;
    }

    private byte[] once(byte[] b) {
        int op = rng.nextInt(text ? 10 : 8);
        if (b.length == 0 && op != 2) {
            op = 2;
        }
        switch (op) {
            case 0 -> {  // bit flip
                byte[] c = b.clone();
                int i = rng.nextInt(c.length);
                c[i] ^= (byte) (1 << rng.nextInt(8));
                return c;
            }
            case 1 -> {  // byte set to an interesting or random value
                byte[] c = b.clone();
                int[] vals = {0, 0xff, 0x7f, 0x80, '"', '{', '[', ',', ':', rng.nextInt(256)};
                c[rng.nextInt(c.length)] = (byte) vals[rng.nextInt(vals.length)];
                return c;
            }
            case 2 -> {  // insert random bytes
                int at = rng.nextInt(b.length + 1), len = 1 + rng.nextInt(16);
                byte[] ins = new byte[len];
                for (int i = 0; i < len; i++) {
                    ins[i] = (byte) rng.nextInt(256);
                }
                return splice(b, at, 0, ins);
            }
            case 3 -> {  // delete a range
                int at = rng.nextInt(b.length), len = 1 + rng.nextInt(Math.min(64, b.length - at));
                return splice(b, at, len, new byte[0]);
            }
            case 4 -> {  // truncate
                return Arrays.copyOf(b, rng.nextInt(b.length));
            }
            case 5 -> {  // duplicate a range
                int at = rng.nextInt(b.length), len = 1 + rng.nextInt(Math.min(64, b.length - at));
                return splice(b, at, 0, Arrays.copyOfRange(b, at, at + len));
            }
            case 6, 7 -> {  // length-field corruption: a 4- or 8-byte little-endian integer
                int width = rng.nextBoolean() ? 4 : 8;
                if (b.length < width) {
                    return Arrays.copyOf(b, 0);
                }
                int limit = rng.nextInt(4) == 0 ? b.length - width + 1 : Math.min(64, b.length - width + 1);
                int at = rng.nextInt(limit);
                if (rng.nextBoolean()) {
                    at -= at % width;
                }
                long v = rng.nextInt(3) == 0 ? b.length + rng.nextInt(-16, 17) : INTERESTING[rng.nextInt(INTERESTING.length)];
                byte[] c = b.clone();
                ByteBuffer bb = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
                if (width == 4) {
                    bb.putInt(at, (int) v);
                } else {
                    bb.putLong(at, v);
                }
                return c;
            }
            default -> {
                return jsonToken(b);
            }
        }
    }

    /** Replaces a JSON value (number, string or literal) with another, or drops / repeats a structural char. */
    private byte[] jsonToken(byte[] b) {
        String s = new String(b, StandardCharsets.UTF_8);
        if (s.isEmpty()) {
            return b;
        }
        int start = rng.nextInt(s.length());
        if (rng.nextInt(3) == 0) {
            int i = indexOfAny(s, "{}[]:,\"", start);
            if (i < 0) {
                return b;
            }
            String c = String.valueOf(s.charAt(i));
            return (s.substring(0, i) + (rng.nextBoolean() ? "" : c + c) + s.substring(i + 1)).getBytes(StandardCharsets.UTF_8);
        }
        // find a token start at or after `start`
        for (int i = start; i < s.length(); i++) {
            char ch = s.charAt(i);
            int end = -1;
            if (ch == '"') {
                end = s.indexOf('"', i + 1);
                end = end < 0 ? -1 : end + 1;
            } else if (ch == '-' || Character.isDigit(ch)) {
                end = i + 1;
                while (end < s.length() && "0123456789.eE+-".indexOf(s.charAt(end)) >= 0) {
                    end++;
                }
            } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
                end = i + 4;
            } else if (s.startsWith("false", i)) {
                end = i + 5;
            }
            if (end > i) {
                String rep = JSON_VALUES[rng.nextInt(JSON_VALUES.length)];
                return (s.substring(0, i) + rep + s.substring(end)).getBytes(StandardCharsets.UTF_8);
            }
        }
        return b;
    }

    private static int indexOfAny(String s, String chars, int from) {
        for (int i = from; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] c = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(insert, 0, c, at, insert.length);
        System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
        return c;
    }
}
