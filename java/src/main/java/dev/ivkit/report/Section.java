package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** One section of the report: a title, an optional note, figures (inline SVG) and summary tables (HTML). */
final class Section {
    /** Cells that are numbers (or a dash, or mean ± sd, or a shape like 5 × 8) are right-aligned. */
    static final Pattern NUMERIC = Pattern.compile(
            "[-+0-9.eE]+( ± [-+0-9.eE]+)?|—|n/a|\\d+ × \\d+");

    /** What a table cell without a value shows. */
    static final Set<String> EMPTY = Set.of("n/a", "—", "");

    final String id;
    final String title;
    final StringBuilder body = new StringBuilder();

    Section(String id, String title) {
        this.id = id;
        this.title = title;
    }

    Section note(String text) {
        body.append("<p class=\"note\">").append(Html.escape(text)).append("</p>\n");
        return this;
    }

    Section figures(List<String> svgs) {
        if (!svgs.isEmpty()) {
            body.append("<div class=\"figs\">\n");
            for (String s : svgs) {
                body.append("<figure>").append(s).append("</figure>\n");
            }
            body.append("</div>\n");
        }
        return this;
    }

    /**
     * A table of {@code rows} under {@code header}. A column (after the first) with no value in any row (every cell
     * n/a, a dash or blank) is left out, and a note before the table names it, so no column of the page is empty.
     */
    Section table(List<String> header, List<List<String>> rows) {
        if (rows.isEmpty()) {
            return this;
        }
        List<Integer> keep = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        for (int c = 0; c < header.size(); c++) {
            boolean any = c == 0;
            for (List<String> r : rows) {
                any |= c < r.size() && !EMPTY.contains(r.get(c).strip());
            }
            if (any) {
                keep.add(c);
            } else {
                dropped.add(header.get(c));
            }
        }
        if (!dropped.isEmpty()) {
            note("Left out of the table, having no value in any row: " + String.join(", ", dropped) + ".");
        }
        body.append("<table><thead><tr>");
        for (int c : keep) {
            body.append("<th>").append(Html.escape(header.get(c))).append("</th>");
        }
        body.append("</tr></thead><tbody>\n");
        for (List<String> r : rows) {
            body.append("<tr>");
            for (int c : keep) {
                String v = c < r.size() ? r.get(c) : "";
                body.append(c > 0 && NUMERIC.matcher(v).matches() ? "<td class=\"num\">" : "<td>")
                        .append(Html.escape(v)).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</tbody></table>\n");
        return this;
    }
}
