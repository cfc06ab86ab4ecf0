package dev.ivkit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Checks of a rendered report shared by the report's and the demo's tests: no empty plot, no section without content. */
public final class ReportAssertions {
    private static final Pattern SECTION = Pattern.compile("<section id=\"([^\"]+)\">\\n<h2>(.*?)</h2>\\n(.*?)</section>", Pattern.DOTALL);
    private static final Pattern SVG = Pattern.compile("<svg .*?</svg>", Pattern.DOTALL);
    private static final Pattern TABLE = Pattern.compile("<table>(.*?)</table>", Pattern.DOTALL);
    private static final Pattern ROW = Pattern.compile("<tr>(.*?)</tr>", Pattern.DOTALL);
    private static final Pattern CELL = Pattern.compile("<t[dh][^>]*>(.*?)</t[dh]>", Pattern.DOTALL);

    private ReportAssertions() {}

    /**
     * The number of data marks of one SVG plot: bars, heatmap cells with a value, scatter or line points, line segments.
     *
     * @param svg one inline SVG
     * @return how many marks carry data
     */
    public static int dataMarks(String svg) throws Exception {
        Document d = PlotsTest.parse(svg);
        int n = 0;
        for (String tag : List.of("rect", "circle", "polyline")) {
            NodeList l = d.getElementsByTagName(tag);
            for (int i = 0; i < l.getLength(); i++) {
                Element e = (Element) l.item(i);
                String cls = e.getAttribute("class");
                boolean cellWithValue = cls.equals("cell") && !e.getAttribute("data-value").equals("NaN");
                if (cls.equals("bar") || cls.equals("point") || cls.equals("series") || cellWithValue) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Every section of {@code html} has content: each plot has data marks, each table has no column whose every cell is
     * empty (n/a, a dash or blank), and the section has at least one plot or one table cell with a value.
     *
     * @param html a rendered report
     * @return the section titles, in page order
     */
    public static List<String> assertEverySectionFilled(String html) throws Exception {
        List<String> titles = new ArrayList<>();
        Matcher s = SECTION.matcher(html);
        while (s.find()) {
            String title = s.group(2), body = s.group(3);
            titles.add(title);
            int plots = 0;
            Matcher svg = SVG.matcher(body);
            while (svg.find()) {
                assertTrue(dataMarks(svg.group()) > 0, title + ": a plot without data: " + svg.group().substring(0, 200));
                plots++;
            }
            int values = 0;
            Matcher t = TABLE.matcher(body);
            while (t.find()) {
                List<List<String>> rows = new ArrayList<>();
                Matcher r = ROW.matcher(t.group(1));
                while (r.find()) {
                    List<String> cells = new ArrayList<>();
                    Matcher c = CELL.matcher(r.group(1));
                    while (c.find()) {
                        cells.add(c.group(1).strip());
                    }
                    rows.add(cells);
                }
                List<String> header = rows.remove(0);
                for (int col = 1; col < header.size(); col++) {
                    int filled = 0;
                    for (List<String> row : rows) {
                        filled += Section.EMPTY.contains(row.get(col)) ? 0 : 1;
                    }
                    assertTrue(filled > 0, title + ": column '" + header.get(col) + "' has no value in any row");
                    values += filled;
                }
            }
            assertTrue(plots + values > 0, title + ": neither a plot nor a value");
        }
        assertFalse(titles.isEmpty(), "no section at all");
        assertEquals(titles.size(), html.split("<section ", -1).length - 1, "every section matched");
        return titles;
    }
}
