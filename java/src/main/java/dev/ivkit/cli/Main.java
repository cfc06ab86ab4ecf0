package dev.ivkit.cli;

import dev.ivkit.IvkitException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code ivkit} command line. Errors print one line to stderr and exit non-zero (stack trace with --verbose). */
@Command(name = "ivkit", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Instruction vectors in Llama-family models.",
        subcommands = {InfoCommand.class, GenerateCommand.class, TrainCommand.class, ScanCommand.class, ExtractCommand.class,
                EvaluateCommand.class, ProbeCommand.class, OrganismCommand.class, ReportCommand.class, ContinualCommand.class,
                DemoCommand.class, HelpCommand.class})
public final class Main {
    /** Exit code for bad input (files, arguments). */
    public static final int EXIT_BAD_INPUT = 2;
    /** Exit code for other failures. */
    public static final int EXIT_FAILURE = 1;

    @Option(names = "--verbose", description = "print stack traces on errors", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    public static void main(String[] args) {
        // JavaCPP's GC safety net refuses native allocations once the process's RSS passes 2x -Xmx: an 8B model's
        // 16 GB of weights would fail to load with the default heap. ivkit scopes every tensor-creating loop
        // (PointerScope, guarded by the leak test), so the net is off unless the user sets it.
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
        if (System.getProperty("org.bytedeco.javacpp.maxBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxBytes", "0");
        }
        // slf4j-simple (the CLI's backend): warnings and errors only, on stderr; -D settings win
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // DJL's tokenizers warn on every load that they found no CUDA driver; they never use one here
        if (System.getProperty("org.slf4j.simpleLogger.log.ai.djl") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.ai.djl", "error");
        }
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (used by tests). */
    public static int run(String... args) {
        // No network, ever: DJL's tokenizers library phones home unless told otherwise before its classes load.
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean verbose = parsed.matchedOption("--verbose") != null
                    || parsed.subcommand() != null && parsed.subcommand().matchedOption("--verbose") != null;
            PrintWriter err = cmd.getErr();
            err.println("ivkit: " + describe(ex));
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ex instanceof IvkitException || ex instanceof java.io.IOException ? EXIT_BAD_INPUT : EXIT_FAILURE;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            String name = qualifiedName(cmd);
            cmd.getErr().println("ivkit: " + ex.getMessage() + " (see: ivkit " + (name.isEmpty() ? "" : name + " ") + "--help)");
            cmd.getErr().flush();
            return EXIT_BAD_INPUT;
        });
        return cl.execute(args);
    }

    private static String qualifiedName(CommandLine cmd) {
        String name = cmd.getCommandName();
        return cmd.getParent() == null ? "" : (cmd.getParent().getParent() == null ? name : qualifiedName(cmd.getParent()) + " " + name);
    }

    /**
     * The error's message on one line: messages that embed a parser's exception (Gson's "MalformedJsonException: …
     * See https://…" spans two lines) keep their first line, without the embedded exception's class name.
     */
    static String describe(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            return ex.getClass().getSimpleName();
        }
        String first = m.strip().lines().findFirst().orElse("");
        return EMBEDDED_EXCEPTION.matcher(first).replaceAll("");
    }

    /** "com.google.gson.stream.MalformedJsonException: " and the like, inside a message. */
    private static final java.util.regex.Pattern EMBEDDED_EXCEPTION =
            java.util.regex.Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error): ");

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"ivkit " + (v == null ? "dev" : v)};
        }
    }
}
