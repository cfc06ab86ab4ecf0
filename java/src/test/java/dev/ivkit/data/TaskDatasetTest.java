package dev.ivkit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.testutil.SharedData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Loaders against the real files in ../shared/data (skipped when absent). */
class TaskDatasetTest {

    private static Path fv(String rel) {
        return SharedData.require("function_vectors/" + rel);
    }

    private static Path sapo(String rel) {
        return SharedData.require("superni/sapo/" + rel);
    }

    @ParameterizedTest
    @CsvSource({
        "abstractive/antonym.json, antonym, 2398, flawed, perfect",
        "abstractive/country-capital.json, country-capital, 197, Afghanistan, Kabul",
        "abstractive/word_length.json, word_length, 814, along, 5",
        "extractive/choose_first_of_3.json, choose_first_of_3, 1000, 'ostrich, since, out', ostrich",
        "extractive/conll2003_person.json, conll2003_person, 3544, , ",
    })
    void functionVectorFilesLoadWithTheirCounts(String rel, String name, int count, String in0, String out0) {
        TaskDataset d = TaskDataset.loadFunctionVector(fv(rel));
        assertEquals(name, d.name());
        assertEquals(count, d.size());
        assertTrue(d.instruction().isEmpty());
        assertTrue(d.positiveExamples().isEmpty());
        if (in0 != null) {
            assertEquals(new TaskExample(in0, out0), d.get(0));
        }
        assertTrue(d.source().endsWith(rel));
    }

    @Test
    void antonymLastRecord() {
        TaskDataset d = TaskDataset.loadFunctionVector(fv("abstractive/antonym.json"));
        assertEquals(new TaskExample("bondage", "freedom"), d.get(2397));
    }

    @Test
    void sapoDevWithInstructions() {
        Path instr = sapo("instructions.json");
        TaskDataset d = TaskDataset.loadSuperNiSapo(sapo("task363_sst2_polarity_classification"), "dev", instr);
        assertEquals("task363_sst2_polarity_classification", d.name());
        assertEquals(649, d.size());
        assertEquals("POS", d.get(0).output());
        assertTrue(d.get(0).input().startsWith("Making such a tragedy the backdrop"));
        assertTrue(d.get(648).input().startsWith("The unique niche of self-critical"));
        assertEquals(List.of("POS", "NEG"), d.labels());
        assertTrue(d.instruction().orElseThrow().startsWith("In this task, you are given sentences from movie reviews."));
        assertEquals("Directly output only POS or NEG as your answer.", d.answerFormat().orElseThrow());
    }

    @ParameterizedTest
    @CsvSource({
        "task1310_amazonreview_rating_classification, train, 5200",
        "task1310_amazonreview_rating_classification, test, 650",
        "task195_sentiment140_classification, dev, 650",
        "task1290_xsum_summarization, test, 650",
        "task1343_amazon_us_reviews_rating, test, 651",
    })
    void sapoSplitSizesMatchInstructionsJson(String task, String split, int count) {
        TaskDataset d = TaskDataset.loadSuperNiSapo(sapo(task), split, sapo("instructions.json"));
        assertEquals(count, d.size());
    }

    @Test
    void sapoMissingTrainSplitIsNamed() {
        Path dir = sapo("task1290_xsum_summarization");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiSapo(dir, "train", sapo("instructions.json")));
        assertEquals(-1, e.record());
        assertEquals(dir.resolve("train.json"), e.file());
        assertTrue(e.getMessage().contains("split \"train\" is absent for task task1290_xsum_summarization"),
                e.getMessage());
    }

    @Test
    void sapoBadSplitNameIsAnArgumentError() {
        Path dir = sapo("task1290_xsum_summarization");
        var e = assertThrows(dev.ivkit.InvalidArgumentException.class,
                () -> TaskDataset.loadSuperNiSapo(dir, "valid", sapo("instructions.json")));
        assertEquals("split", e.field());
    }

    @Test
    void blankLabelsInTask511AreRejectedSkippedOrKept() {
        Path dir = sapo("task511_reddit_tifu_long_text_summarization");
        Path instr = sapo("instructions.json");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiSapo(dir, "dev", instr));
        assertEquals(137, e.record());
        assertEquals("dev.json record 137: \"label\" is blank", e.getMessage());
        assertEquals(643, TaskDataset.loadSuperNiSapo(dir, "dev", instr, BlankOutputs.SKIP).size());
        TaskDataset kept = TaskDataset.loadSuperNiSapo(dir, "dev", instr, BlankOutputs.KEEP);
        assertEquals(650, kept.size());
        assertEquals("", kept.get(137).output());
    }

    @Test
    void superNiOriginalSchemaWithListOutputs() {
        Path f = SharedData.require("superni/full_subsets/task1510_evalution_relation_extraction/dev.json");
        TaskDataset d = TaskDataset.loadSuperNiOriginal(f);
        assertEquals("task1510_evalution_relation_extraction", d.name());
        assertEquals(100, d.size());
        assertEquals(new TaskExample("person can have or can contain offspring", "person HasA offspring"), d.get(0));
        assertTrue(d.instruction().orElseThrow().startsWith("Given a phrase describing the relationship"));
        assertEquals(3, d.positiveExamples().size());
        assertTrue(d.labels().isEmpty());
    }

    @Test
    void superNiOriginalSchemaWithStringOutputs() {
        // SAPT's task363 stores "output" as a plain string, not a list
        Path f = SharedData.require("superni/full_subsets/task363_sst2_polarity_classification/train.json");
        TaskDataset d = TaskDataset.loadSuperNiOriginal(f);
        assertEquals(1000, d.size());
        assertEquals(2, d.positiveExamples().size());
        assertEquals(new TaskExample("It 's a lovely film with lovely performances by Buy and Accorsi .", "POS"),
                d.positiveExamples().get(0));
        for (TaskExample x : d.examples()) {
            assertTrue(x.output().equals("POS") || x.output().equals("NEG"), x.output());
        }
    }

    @Test
    void superNiXlsumFirst450() {
        Path f = SharedData.require("superni/full_subsets/task1357_xlsum_summary_generation/first450.json");
        TaskDataset d = TaskDataset.loadSuperNiOriginal(f);
        assertEquals("task1357_xlsum_summary_generation", d.name());
        assertEquals(450, d.size());
        assertEquals(2, d.positiveExamples().size());
    }

    @Test
    void superNiPartialFileWithStringDefinition() {
        Path f = SharedData.require("superni/partial/task195_sentiment140_classification.partial.json");
        TaskDataset d = TaskDataset.loadSuperNiOriginal(f);
        assertEquals("task195_sentiment140_classification", d.name());
        assertEquals(61, d.size());
        assertEquals(4, d.positiveExamples().size());
        assertEquals("positive", d.get(0).output());
        assertTrue(d.get(0).input().startsWith("@theroser @honorsociety"));
        assertTrue(d.instruction().orElseThrow().startsWith("In this task, you are given a text from tweets."));
    }

    @Test
    void sapTrainOfTask511HasBlankOutputs() {
        Path f = SharedData.require("superni/full_subsets/task511_reddit_tifu_long_text_summarization/train.json");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadSuperNiOriginal(f));
        assertEquals(79, e.record());
        assertEquals(994, TaskDataset.loadSuperNiOriginal(f, BlankOutputs.SKIP).size());
        assertFalse(TaskDataset.loadSuperNiOriginal(f, BlankOutputs.SKIP).examples().stream()
                .anyMatch(x -> x.output().isBlank()));
    }
}
