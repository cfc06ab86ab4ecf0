package dev.ivkit.util;

import java.io.PrintStream;

/**
 * Progress on stderr (never stdout): a bar redrawn in place when there is a terminal ({@link System#console()}),
 * otherwise one line at most every 10 s and at the end. Shows done / total, an optional suffix (e.g. the loss) and
 * the ETA from this run's own rate (work resumed from a checkpoint does not count toward the rate).
 */
public final class Progress {
    static final long LINE_INTERVAL_NANOS = 10_000_000_000L;

    private final String label;
    private final long total;
    private final long startDone;
    private final long start = System.nanoTime();
    private final boolean terminal;
    private final PrintStream err;
    private long lastLine = System.nanoTime();

    public Progress(String label, long total) {
        this(label, total, 0);
    }

    /** @param startDone work already done before this run (resumed) */
    public Progress(String label, long total, long startDone) {
        this.label = label;
        this.total = total;
        this.startDone = startDone;
        this.terminal = System.console() != null;
        this.err = System.err;
    }

    public void update(long done) {
        update(done, null);
    }

    public void update(long done, String suffix) {
        long now = System.nanoTime();
        boolean last = done >= total;
        String extra = suffix == null || suffix.isBlank() ? "" : " " + suffix;
        if (terminal) {
            int width = 30, filled = total == 0 ? width : (int) (width * done / total);
            err.print("\r" + label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + total + extra
                    + " ETA " + eta(done, now) + "   ");
            if (last) {
                err.println();
            }
            err.flush();
        } else if (last || now - lastLine >= LINE_INTERVAL_NANOS) {
            err.println(label + ": " + done + "/" + total + extra + (last ? " done" : ", ETA " + eta(done, now)));
            lastLine = now;
        }
    }

    private String eta(long done, long now) {
        long doneHere = done - startDone;
        if (doneHere <= 0) {
            return "?";
        }
        long secs = Math.round((now - start) / 1e9 / doneHere * (total - done));
        return secs >= 3600 ? String.format("%dh%02dm", secs / 3600, secs % 3600 / 60)
                : secs >= 60 ? String.format("%dm%02ds", secs / 60, secs % 60) : secs + "s";
    }
}
