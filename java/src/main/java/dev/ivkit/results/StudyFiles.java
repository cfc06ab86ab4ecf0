package dev.ivkit.results;

import dev.ivkit.IvkitException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Reading and clearing the files of a study's output folder ({@code ivkit continual}, {@code ivkit demo}). */
public final class StudyFiles {
    private StudyFiles() {}

    /**
     * {@code f} as UTF-8; an {@link IvkitException} naming it where it cannot be read.
     *
     * @param f the file
     * @return its text
     * @throws IvkitException when it cannot be read
     */
    public static String readString(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IvkitException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes {@code p} and everything below it, if it exists.
     *
     * @param p a file or folder
     * @throws IvkitException when something cannot be deleted
     */
    public static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new IvkitException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
