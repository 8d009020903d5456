# Replaces the value of KEY (a/b for j[a][b]) in a JSON file (or in a model.safetensors header, keeping the length
# prefix right) with DEPTH nested empty lists: nesting that once overflowed the stack in dump().
import json, struct, sys
path, key, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
deep = '[' * depth + ']' * depth
raw = open(path, 'rb').read()
st = path.endswith('.safetensors')
if st:
    n = struct.unpack('<Q', raw[:8])[0]
    text, rest = raw[8:8 + n].decode(), raw[8 + n:]
else:
    text = raw.decode()
j = json.loads(text)
*parents, last = key.split('/')
node = j
for k in parents:
    node = node[k]
node[last] = '@DEEP@'
text = json.dumps(j).replace('"@DEEP@"', deep)
out = text.encode()
open(path, 'wb').write(struct.pack('<Q', len(out)) + out + rest if st else out)
