package dev.ivkit.report;

import java.util.List;
import java.util.regex.Pattern;

/** One section of the report: a title, an optional note, figures (inline SVG) and summary tables (HTML). */
final class Section {
    /** Cells that are numbers (or a dash, or mean ± sd, or a shape like 5 × 8) are right-aligned. */
    static final Pattern NUMERIC = Pattern.compile(
            "[-+0-9.eE]+( ± [-+0-9.eE]+)?|—|n/a|\\d+ × \\d+");

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

    Section table(List<String> header, List<List<String>> rows) {
        if (rows.isEmpty()) {
            return this;
        }
        body.append("<table><thead><tr>");
        for (String h : header) {
            body.append("<th>").append(Html.escape(h)).append("</th>");
        }
        body.append("</tr></thead><tbody>\n");
        for (List<String> r : rows) {
            body.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                body.append(i > 0 && NUMERIC.matcher(r.get(i)).matches() ? "<td class=\"num\">" : "<td>")
                        .append(Html.escape(r.get(i))).append("</td>");
            }
            body.append("</tr>\n");
        }
        body.append("</tbody></table>\n");
        return this;
    }
}
