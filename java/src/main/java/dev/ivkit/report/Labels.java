package dev.ivkit.report;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Text of the report's table cells and plot labels: short task names and a dash for a missing value. */
final class Labels {
    private Labels() {}

    /** A short label for a task: {@code task195} for SuperNI's {@code task195_sentiment_...}, else the name. */
    static String shortName(String task) {
        Matcher m = Pattern.compile("(task\\d+)_.*").matcher(task);
        return m.matches() ? m.group(1) : task;
    }

    /** {@link #shortName} of each task. */
    static List<String> shortNames(List<String> tasks) {
        return tasks.stream().map(Labels::shortName).toList();
    }

    /** The text, or a dash when absent. */
    static String orDash(String s) {
        return s == null ? "—" : s;
    }
}
