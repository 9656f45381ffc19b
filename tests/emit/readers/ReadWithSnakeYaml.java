// Reads each YAML file named on the command line with SnakeYAML (Debian's libyaml-snake-java)
// and prints one JSON document per line: what a SnakeYAML-based tool makes of the template.
// A local tag (!Ref, !Sub, ...) becomes {"!Tag": value}; the Python side turns it into the
// long form. Run by tests/emit/test_other_readers.py as `java -cp snakeyaml.jar ReadWithSnakeYaml.java`.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

public class ReadWithSnakeYaml {
    static class LocalTags extends SafeConstructor {
        LocalTags() {
            super(new LoaderOptions());
            this.yamlMultiConstructors.put("!", new AbstractConstruct() {
                public Object construct(Node node) {
                    Object value;
                    if (node instanceof ScalarNode) {
                        value = constructScalar((ScalarNode) node);
                    } else if (node instanceof SequenceNode) {
                        value = constructSequence((SequenceNode) node);
                    } else {
                        value = constructMapping((MappingNode) node);
                    }
                    Map<String, Object> tagged = new LinkedHashMap<>();
                    tagged.put(node.getTag().getValue(), value);
                    return tagged;
                }
            });
        }
    }

    public static void main(String[] args) throws Exception {
        for (String file : args) {
            Object data = new Yaml(new LocalTags()).load(Files.readString(Path.of(file)));
            StringBuilder out = new StringBuilder();
            json(data, out);
            System.out.println(out);
        }
    }

    static void json(Object value, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                if (!first) out.append(',');
                first = false;
                // A key that is not a string is marked, so that the comparison fails on it.
                Object key = entry.getKey();
                string(key instanceof String ? (String) key : "<" + key.getClass().getSimpleName() + ">" + key, out);
                out.append(':');
                json(entry.getValue(), out);
            }
            out.append('}');
        } else if (value instanceof List) {
            out.append('[');
            boolean first = true;
            for (Object item : (List<?>) value) {
                if (!first) out.append(',');
                first = false;
                json(item, out);
            }
            out.append(']');
        } else if (value instanceof String) {
            string((String) value, out);
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long
                   || value instanceof java.math.BigInteger) {
            out.append(value);
        } else if (value instanceof Double) {
            out.append("{\"<Double>\":\"").append(value).append("\"}");
        } else if (value instanceof Date) {
            out.append("{\"<Date>\":\"").append(value).append("\"}");
        } else {
            out.append("{\"<").append(value.getClass().getSimpleName()).append(">\":\"").append(value).append("\"}");
        }
    }

    static void string(String text, StringBuilder out) {
        out.append('"');
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
