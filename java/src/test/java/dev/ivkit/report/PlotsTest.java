package dev.ivkit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The SVG primitives: well-formed XML, values mapped to the right colours, heights and positions. */
class PlotsTest {
    static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    static List<Element> byClass(Document d, String cls) {
        List<Element> out = new ArrayList<>();
        NodeList all = d.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (cls.equals(e.getAttribute("class"))) {
                out.add(e);
            }
        }
        return out;
    }

    static double attr(Element e, String name) {
        return Double.parseDouble(e.getAttribute(name));
    }

    @Test
    void colourScalesHitTheirEndpoints() {
        ColorScale s = ColorScale.sequential(0, 1);
        assertEquals("#440154", s.color(0));
        assertEquals("#fde725", s.color(1));
        assertEquals("#21918c", s.color(0.5));  // the middle viridis stop
        assertEquals("#440154", s.color(-3));   // clamped
        assertEquals(ColorScale.MISSING, s.color(Double.NaN));
        ColorScale d = ColorScale.diverging(2);
        assertEquals("#2166ac", d.color(-2));
        assertEquals("#f7f7f7", d.color(0));
        assertEquals("#b2182b", d.color(2));
        assertTrue(ColorScale.auto(new double[][] {{-1, 3}}).isDiverging());
        assertEquals(3, ColorScale.auto(new double[][] {{-1, 3}}).max());
        assertFalse(ColorScale.auto(new double[][] {{1, 3}}).isDiverging());
    }

    @Test
    void heatmapCellsCarryTheirValuesColours() throws Exception {
        double[][] v = {{0, 1}, {0.5, Double.NaN}};
        String svg = Plots.heatmap(new Plots.Heatmap("t <&> \"q\"", "head", "layer", List.of("L0", "L1"), List.of("h0", "h1"),
                v, ColorScale.sequential(0, 1), "CIE"));
        Document d = parse(svg);
        assertEquals("svg", d.getDocumentElement().getLocalName());
        assertEquals("http://www.w3.org/2000/svg", d.getDocumentElement().getNamespaceURI());
        assertEquals("t <&> \"q\"", d.getElementsByTagName("title").item(0).getTextContent());
        List<Element> cells = byClass(d, "cell");
        assertEquals(4, cells.size());
        String[] expected = {"#440154", "#fde725", "#21918c", ColorScale.MISSING};
        for (int i = 0; i < 4; i++) {
            Element c = cells.get(i);
            assertEquals(i / 2, (int) attr(c, "data-row"));
            assertEquals(i % 2, (int) attr(c, "data-col"));
            assertEquals(expected[i], c.getAttribute("fill"), "cell " + i);
        }
        // cells of one row share y, of one column share x; row 1 is below row 0
        assertEquals(attr(cells.get(0), "y"), attr(cells.get(1), "y"));
        assertEquals(attr(cells.get(0), "x"), attr(cells.get(2), "x"));
        assertTrue(attr(cells.get(2), "y") > attr(cells.get(0), "y"));
        // a colour bar from the top (max, yellow) to the bottom (min, purple)
        List<Element> bar = byClass(d, "colorbar");
        assertTrue(bar.size() > 10);
        assertTrue(bar.get(0).getAttribute("fill").startsWith("#f"), bar.get(0).getAttribute("fill"));
        assertTrue(bar.get(bar.size() - 1).getAttribute("fill").startsWith("#4"), bar.get(bar.size() - 1).getAttribute("fill"));
        assertTrue(svg.contains(">0.50<"), "cells are annotated with their values");
    }

    @Test
    void barHeightsAreProportionalAndNegativeBarsHangBelowZero() throws Exception {
        double[][] v = {{1, 2}, {-1, Double.NaN}};
        double[][] e = {{0.5, 0}, {Double.NaN, 0}};
        double[][][] pts = {{{0.8, 1.2}, null}, {null, null}};
        Document d = parse(Plots.bars(new Plots.Bars("bars", "score", List.of("AP", "BWT"), List.of("a", "b"), v, e, pts)));
        List<Element> bars = byClass(d, "bar");
        assertEquals(3, bars.size(), "NaN is not drawn");
        double h1 = attr(bars.get(0), "height"), h2 = attr(bars.get(1), "height"), hm = attr(bars.get(2), "height");
        assertEquals(2.0, h2 / h1, 0.02);
        assertEquals(h1, hm, 0.02);
        double zero = attr(bars.get(0), "y") + h1;                      // the bottom of a positive bar
        assertEquals(zero, attr(bars.get(2), "y"), 0.02);               // the top of the negative bar
        assertEquals(zero, attr(bars.get(1), "y") + h2, 0.02);
        assertEquals(1, byClass(d, "errorbar").size());
        assertEquals(2, byClass(d, "seed").size());
        // the error bar spans value ± 0.5, i.e. one bar height of 1.0
        Element eb = byClass(d, "errorbar").get(0);
        assertEquals(h1, Math.abs(attr(eb, "y2") - attr(eb, "y1")), 0.05);
        // series colours match the legend palette
        assertEquals(Plots.color(0), bars.get(0).getAttribute("fill"));
        assertEquals(Plots.color(1), bars.get(1).getAttribute("fill"));
    }

    @Test
    void linePlotAndScatterAreWellFormedAndPlacePoints() throws Exception {
        Plots.Series a = Plots.Series.of("a & b", new double[] {0, 1, 2, 3}, new double[] {0, 1, Double.NaN, 3});
        Plots.Series base = new Plots.Series("baseline", new double[] {0, 3}, new double[] {0.5, 0.5}, true, null);
        Document d = parse(Plots.lines("lines <x>", "layer", "top-1", List.of(a, base)));
        assertEquals(3, byClass(d, "series").size(), "the NaN splits series a in two, plus the baseline");
        List<Element> pts = byClass(d, "point");
        assertEquals(3, pts.size());
        // y grows upward: the point at y=3 is above the one at y=0, x increases to the right
        assertTrue(attr(pts.get(2), "cy") < attr(pts.get(0), "cy"));
        assertTrue(attr(pts.get(2), "cx") > attr(pts.get(1), "cx"));
        List<Element> legend = byClass(d, "legend");
        assertEquals("a & b", legend.get(0).getTextContent());

        Plots.Series s = new Plots.Series("m", new double[] {0.2, 0.9}, new double[] {0.1, 0.8}, false,
                List.of("<p1>", "p2"));
        Document sd = parse(Plots.scatter("scatter", "cos", "acc", List.of(s)));
        List<Element> sp = byClass(sd, "point");
        assertEquals(2, sp.size());
        assertTrue(sp.get(0).getTextContent().startsWith("<p1>"), "tooltips are escaped text");
        assertTrue(attr(sp.get(1), "cx") > attr(sp.get(0), "cx") && attr(sp.get(1), "cy") < attr(sp.get(0), "cy"));
    }

    @Test
    void emptyAndDegenerateInputsStillRender() throws Exception {
        parse(Plots.lines("empty", null, null, List.of()));
        parse(Plots.scatter("one point", "x", "y", List.of(Plots.Series.of("", new double[] {1}, new double[] {1}))));
        parse(Plots.heatmap(new Plots.Heatmap("constant", null, null, null, null, new double[][] {{2, 2}},
                ColorScale.auto(new double[][] {{2, 2}}), null)));
        parse(Plots.bars(new Plots.Bars("zeros", null, List.of("g"), List.of("s"), new double[][] {{0}}, null, null)));
    }

    @Test
    void escapingAndLabels() {
        assertEquals("&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;", Html.escape("<script>alert(\"x\")&'"));
        assertEquals("0.090", PlotText.compact(0.09, 0.09));
        assertEquals("0.000", PlotText.compact(-0.0002, 0.09));
        assertEquals("0.57", PlotText.compact(0.5712, 1));
        assertEquals("abcd…", PlotText.ellipsize("abcdefghij", 5 * 6, 10));
        Axis ax = Axis.of(0, 0.93, 5, false);
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), ax.ticks);
        assertEquals("0.2", ax.label(0.2));
        assertEquals(List.of(0.0, 1.0, 2.0, 3.0), Axis.integers(0, 3, 8).ticks);
    }
}
