package dev.ivkit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Malformed task files: each error names the file and the record. */
class BadFilesTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "empty file        | ~~                                                                   | -1 | antonym.json: no records (the file is empty)",
        "whitespace only   | ~  \n ~                                                              | -1 | antonym.json: no records (the file is empty)",
        "empty array       | []                                                                   | -1 | antonym.json: no records (empty JSON array)",
        "not an array      | {\"input\": \"a\", \"output\": \"b\"}                                | -1 | antonym.json: not a JSON array of records (top-level value is an object)",
        "string top level  | ~\"hello\"~                                                          | -1 | antonym.json: not a JSON array of records (top-level value is a string)",
        "record not object | [{\"input\": \"a\", \"output\": \"b\"}, [1, 2]]                      | 1  | antonym.json record 1: record is not a JSON object (got an array)",
        "null record       | [{\"input\": \"a\", \"output\": \"b\"}, null]                        | 1  | antonym.json record 1: record is not a JSON object (got null)",
        "missing output    | [{\"input\": \"a\", \"output\": \"b\"}, {\"input\": \"c\"}]          | 1  | antonym.json record 1: missing \"output\"",
        "missing input     | [{\"output\": \"b\"}]                                               | 0  | antonym.json record 0: missing \"input\"",
        "non-string output | [{\"input\": \"a\", \"output\": 5}]                                 | 0  | antonym.json record 0: \"output\" is not a string (got number 5)",
        "null input        | [{\"input\": null, \"output\": \"b\"}]                              | 0  | antonym.json record 0: \"input\" is not a string (got null)",
        "array output      | [{\"input\": \"a\", \"output\": [\"b\"]}]                           | 0  | antonym.json record 0: \"output\" is not a string (got an array)",
        "blank input       | [{\"input\": \"a\", \"output\": \"b\"}, {\"input\": \" \", \"output\": \"d\"}] | 1 | antonym.json record 1: \"input\" is blank",
        "blank output      | [{\"input\": \"a\", \"output\": \"\"}]                              | 0  | antonym.json record 0: \"output\" is blank",
        "trailing content  | [{\"input\": \"a\", \"output\": \"b\"}] x                          | -1 | antonym.json: malformed JSON: content after the top-level array",
    })
    void functionVectorFileErrors(String label, String content, int record, String message) throws IOException {
        Path f = write("antonym.json", content.replace("\\n", "\n"));
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadFunctionVector(f));
        assertEquals(f, e.file());
        assertEquals(record, e.record(), e.getMessage());
        assertEquals(message, e.getMessage());
    }

    @Test
    void malformedJsonNamesTheRecordItIsIn() throws IOException {
        Path f = write("antonym.json", "[{\"input\": \"a\", \"output\": \"b\"},\n {\"input\": \"c\", \"output\": \"d\"},\n"
                + " {\"input\": \"e\" \"output\": \"f\"}]");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadFunctionVector(f));
        assertEquals(2, e.record());
        assertEquals(true, e.getMessage().startsWith("antonym.json record 2: malformed JSON: "), e.getMessage());
    }

    @Test
    void truncatedFileNamesTheRecord() throws IOException {
        Path f = write("antonym.json", "[{\"input\": \"a\", \"output\": \"b\"}, {\"input\": \"c\", \"outp");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadFunctionVector(f));
        assertEquals(1, e.record());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nope.json");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadFunctionVector(f));
        assertEquals("nope.json: file does not exist", e.getMessage());
    }

    @Test
    void instructionKeyIsAcceptedForInput() throws IOException {
        Path f = write("icl.json", "[{\"instruction\": \"Say hi\", \"output\": \"hi\"}, {\"input\": \"x\", \"output\": \"y\"}]");
        TaskDataset d = TaskDataset.loadFunctionVector(f);
        assertEquals(new TaskExample("Say hi", "hi"), d.get(0));
        assertEquals(new TaskExample("x", "y"), d.get(1));
        assertEquals("icl", d.name());
    }

    @Test
    void blankOutputPolicies() throws IOException {
        Path f = write("t.json", "[{\"input\": \"a\", \"output\": \"\"}, {\"input\": \"b\", \"output\": \"c\"}]");
        assertEquals(1, TaskDataset.loadFunctionVector(f, BlankOutputs.SKIP).size());
        assertEquals("", TaskDataset.loadFunctionVector(f, BlankOutputs.KEEP).get(0).output());
        Path g = write("u.json", "[{\"input\": \"a\", \"output\": \" \"}]");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> TaskDataset.loadFunctionVector(g, BlankOutputs.SKIP));
        assertEquals("u.json: no records (every record has a blank output)", e.getMessage());
    }

    @Test
    void sapoRecordErrors() throws IOException {
        Path task = Files.createDirectories(dir.resolve("task1_x"));
        Path instr = write("instructions.json", "{\"task1_x\": {\"instruction\": \"Do it\", \"suffix\": \"Now.\", "
                + "\"labels\": [\"a\"], \"size\": [1, 1, 1]}}");
        Files.writeString(task.resolve("dev.json"), "[{\"sentence\": \"s\", \"label\": \"a\"}, {\"sentence\": \"t\"}]");
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiSapo(task, "dev", instr));
        assertEquals("dev.json record 1: missing \"label\"", e.getMessage());
        Files.writeString(task.resolve("test.json"), "[{\"sentence\": \"s\", \"label\": \"a\"}]");
        TaskDataset d = TaskDataset.loadSuperNiSapo(task, "test", instr);
        assertEquals("Do it", d.instruction().orElseThrow());
        assertEquals("Now.", d.answerFormat().orElseThrow());

        Path other = Files.createDirectories(dir.resolve("task2_y"));
        Files.writeString(other.resolve("dev.json"), "[{\"sentence\": \"s\", \"label\": \"a\"}]");
        DataFormatException e2 = assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiSapo(other, "dev", instr));
        assertEquals("instructions.json: no entry for task task2_y", e2.getMessage());
    }

    @Test
    void superNiOriginalErrors() throws IOException {
        Path noInst = write("task9_a.json", "{\"Definition\": [\"Do it\"]}");
        assertEquals("task9_a.json: missing \"Instances\"", assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiOriginal(noInst)).getMessage());
        Path empty = write("task9_b.json", "{\"Definition\": [\"Do it\"], \"Instances\": []}");
        assertEquals("task9_b.json: no records (\"Instances\" is empty)", assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiOriginal(empty)).getMessage());
        Path noDef = write("task9_c.json", "{\"Instances\": [{\"input\": \"a\", \"output\": [\"b\"]}]}");
        assertEquals("task9_c.json: missing \"Definition\"", assertThrows(DataFormatException.class,
                () -> TaskDataset.loadSuperNiOriginal(noDef)).getMessage());
        Path emptyOut = write("task9_d.json", "{\"Definition\": \"Do it\", \"Instances\": [{\"input\": \"a\", "
                + "\"output\": [\"b\"]}, {\"input\": \"c\", \"output\": []}]}");
        DataFormatException e = assertThrows(DataFormatException.class, () -> TaskDataset.loadSuperNiOriginal(emptyOut));
        assertEquals(1, e.record());
        assertEquals("task9_d.json record 1: \"output\" is an empty array", e.getMessage());
        Path badPos = write("task9_e.json", "{\"Definition\": \"Do it\", \"Positive Examples\": [{\"input\": \"a\"}], "
                + "\"Instances\": [{\"input\": \"a\", \"output\": [\"b\"]}]}");
        assertEquals("task9_e.json: \"Positive Examples\"[0]: missing \"output\"",
                assertThrows(DataFormatException.class, () -> TaskDataset.loadSuperNiOriginal(badPos)).getMessage());
        Path arr = write("task9_f.json", "[1]");
        assertEquals("task9_f.json: not a JSON object (top-level value is an array)",
                assertThrows(DataFormatException.class, () -> TaskDataset.loadSuperNiOriginal(arr)).getMessage());
        Path bad = write("task9_g.json", "{\"Definition\": \"Do it\", \"Instances\": [");
        assertEquals(true, assertThrows(DataFormatException.class, () -> TaskDataset.loadSuperNiOriginal(bad))
                .getMessage().startsWith("task9_g.json: malformed JSON"));
    }
}
