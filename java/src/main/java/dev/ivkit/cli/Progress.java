package dev.ivkit.cli;

import java.io.PrintStream;

/**
 * Progress on stderr: a bar redrawn in place when there is a terminal ({@link System#console()}), otherwise one
 * line at most every {@link #LINE_INTERVAL_NANOS} and at the end. Shows done / total and the ETA from this run's rate.
 */
final class Progress {
    static final long LINE_INTERVAL_NANOS = 10_000_000_000L;

    private final String label;
    private final int total;
    private final int startDone;
    private final long start = System.nanoTime();
    private final boolean terminal;
    private final PrintStream err;
    private long lastLine = System.nanoTime();

    Progress(String label, int total, int startDone) {
        this.label = label;
        this.total = total;
        this.startDone = startDone;
        this.terminal = System.console() != null;
        this.err = System.err;
    }

    void update(int done) {
        long now = System.nanoTime();
        boolean last = done >= total;
        if (terminal) {
            int width = 30, filled = total == 0 ? width : (int) ((long) width * done / total);
            err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total
                    + " ETA " + eta(done, now) + "   ");
            if (last) {
                err.println();
            }
            err.flush();
        } else if (last || now - lastLine >= LINE_INTERVAL_NANOS) {
            err.println(label + ": " + done + "/" + total + (last ? " done" : ", ETA " + eta(done, now)));
            lastLine = now;
        }
    }

    private String eta(int done, long now) {
        int doneHere = done - startDone;
        if (doneHere <= 0) {
            return "?";
        }
        long secs = Math.round((now - start) / 1e9 / doneHere * (total - done));
        return secs >= 3600 ? String.format("%d:%02d:%02d", secs / 3600, secs / 60 % 60, secs % 60)
                : String.format("%d:%02d", secs / 60, secs % 60);
    }
}
