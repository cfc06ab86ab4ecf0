package dev.ivkit.util;

import dev.ivkit.ModelFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests as lower-case hex, of bytes, text and files (the identities resumable work records). */
public final class Sha256 {
    private Sha256() {}

    /**
     * @param bytes the data
     * @return its SHA-256, 64 hex digits
     */
    public static String of(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param text the text, as UTF-8
     * @return its SHA-256, 64 hex digits
     */
    public static String of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * SHA-256 of a file's bytes; for a folder, of the names and digests of every regular file directly inside it.
     *
     * @param p a file or folder
     * @return 64 hex digits
     * @throws ModelFormatException naming {@code p} when it cannot be read
     */
    public static String of(Path p) {
        try {
            if (!Files.isDirectory(p)) {
                return of(Files.readAllBytes(p));
            }
            StringBuilder sb = new StringBuilder();
            try (var s = Files.list(p)) {
                for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                    sb.append(f.getFileName()).append(':').append(of(Files.readAllBytes(f))).append('\n');
                }
            }
            return of(sb.toString());
        } catch (IOException e) {
            throw new ModelFormatException(p, null, "cannot read: " + e.getMessage(), e);
        }
    }
}
