package dev.ivkit.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code ivkit help [COMMAND...]}: the usage of the parent command, or of the (nested) command named, on stdout.
 * Picocli's own {@link CommandLine.HelpCommand} takes a single name, so {@code ivkit help organism train} would fail;
 * this one walks the names down the subcommand tree ({@code ivkit organism help train} works as well). An unknown
 * name is a {@link ParameterException}: one line on stderr, exit 2.
 */
@Command(name = "help", helpCommand = true, header = "Display help information about the specified command.",
        synopsisHeading = "%nUsage: ",
        description = {"%nWhen no COMMAND is given, the usage help for the main command is displayed.",
                "If a COMMAND is specified, the help for that command is shown (nested ones too: help organism train).%n"})
final class HelpCommand implements CommandLine.IHelpCommandInitializable2, Runnable {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show usage help for the help command and exit.")
    boolean helpRequested;

    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command (and subcommands) to display the usage help message for.")
    List<String> commands = new ArrayList<>();

    private CommandLine self;
    private ColorScheme colorScheme;
    private PrintWriter out;

    @Override
    public void init(CommandLine helpCommandLine, ColorScheme colorScheme, PrintWriter out, PrintWriter err) {
        this.self = helpCommandLine;
        this.colorScheme = colorScheme;
        this.out = out;
    }

    @Override
    public void run() {
        CommandLine target = self.getParent();
        if (target == null) {
            return;
        }
        for (String name : commands) {
            CommandLine sub = target.getSubcommands().get(name);
            if (sub == null) {
                throw new ParameterException(target, "Unknown subcommand '" + name + "'.", null, name);
            }
            target = sub;
        }
        target.usage(out, colorScheme);
        out.flush();
    }
}
