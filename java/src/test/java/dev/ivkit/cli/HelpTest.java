package dev.ivkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

/**
 * Usage help for every command: {@code ivkit CMD... --help}, {@code -h} and {@code ivkit help CMD...} print the
 * command's usage on stdout and exit 0. The commands are found by walking Main's subcommand tree, so a new command
 * is covered without touching this test.
 */
class HelpTest {
    /** Every command's path below the root, e.g. [train], [organism, train], [organism, help]. */
    static List<List<String>> commandPaths() {
        List<List<String>> paths = new ArrayList<>();
        walk(new CommandLine(new Main()), new ArrayList<>(), paths);
        return paths;
    }

    private static void walk(CommandLine cmd, List<String> path, List<List<String>> into) {
        cmd.getSubcommands().forEach((name, sub) -> {
            List<String> p = new ArrayList<>(path);
            p.add(name);
            into.add(p);
            walk(sub, p, into);
        });
    }

    private static String[] args(List<String> before, List<String> path, List<String> after) {
        List<String> all = new ArrayList<>(before);
        all.addAll(path);
        all.addAll(after);
        return all.toArray(String[]::new);
    }

    /** Exit 0, "Usage: ivkit PATH" on stdout, nothing on stderr. */
    private static void assertUsage(List<String> path, String... args) {
        CliTest.Run r = CliTest.run(args);
        String what = "ivkit " + String.join(" ", args);
        String out = r.out().replaceAll("\u001B\\[[;\\d]*m", "");  // in case picocli's ANSI detection says yes
        String usage = ("Usage: ivkit " + String.join(" ", path)).strip();
        assertEquals(0, r.code(), what + ": " + r.err());
        assertEquals("", r.err(), what);
        assertTrue(out.contains(usage + " ") || out.contains(usage + System.lineSeparator()), what + " printed:\n" + out);
    }

    @Test
    void theWalkFindsTheNestedCommands() {
        List<String> names = commandPaths().stream().map(p -> String.join(" ", p)).toList();
        for (String expected : List.of("train", "generate", "organism", "organism train", "organism info", "help", "organism help")) {
            assertTrue(names.contains(expected), expected + " not in " + names);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCommandPrintsItsUsage() {
        return commandPaths().stream().map(path -> DynamicTest.dynamicTest("ivkit " + String.join(" ", path), () -> {
            assertUsage(path, args(List.of(), path, List.of("--help")));
            assertUsage(path, args(List.of(), path, List.of("-h")));
            assertUsage(path, args(List.of("help"), path, List.of()));
            if (path.size() > 1) {  // the parent's own help command: ivkit organism help train
                List<String> parent = path.subList(0, path.size() - 1);
                assertUsage(path, args(List.of(), parent, List.of("help", path.get(path.size() - 1))));
            }
        }));
    }

    @Test
    void theRootPrintsItsUsage() {
        assertUsage(List.of(), "--help");
        assertUsage(List.of(), "-h");
        assertUsage(List.of(), "help");
    }

    @Test
    void helpForAnUnknownCommandIsOneLineOnStderr() {
        for (String[] args : List.of(new String[] {"help", "nosuch"}, new String[] {"help", "organism", "nosuch"},
                new String[] {"organism", "help", "nosuch"})) {
            CliTest.Run r = CliTest.run(args);
            String what = "ivkit " + String.join(" ", args);
            assertEquals(Main.EXIT_BAD_INPUT, r.code(), what);
            assertEquals("", r.out(), what);
            assertEquals(1, r.err().strip().lines().count(), what + ": " + r.err());
            assertTrue(r.err().startsWith("ivkit: ") && r.err().contains("'nosuch'"), what + ": " + r.err());
        }
        assertTrue(CliTest.run("help", "nosuch").err().contains("(see: ivkit --help)"));
    }

    @Test
    void missingRequiredOptionsWithoutHelpAreStillAnError() {
        CliTest.Run r = CliTest.run("train");
        assertEquals(Main.EXIT_BAD_INPUT, r.code());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("Missing required option") && r.err().contains("--model"), r.err());
        assertTrue(r.err().contains("(see: ivkit train --help)"), r.err());

        CliTest.Run nested = CliTest.run("organism", "train", "--no-such-option");
        assertEquals(Main.EXIT_BAD_INPUT, nested.code());
        assertTrue(nested.err().contains("(see: ivkit organism train --help)"), nested.err());
    }

    @Test
    void versionFromAnyCommand() {
        for (String[] args : List.of(new String[] {"--version"}, new String[] {"train", "-V"}, new String[] {"organism", "info", "--version"})) {
            CliTest.Run r = CliTest.run(args);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().startsWith("ivkit "), r.out());
        }
    }
}
