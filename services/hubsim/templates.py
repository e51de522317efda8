"""Source templates of synthetic Space apps; `<<name>>` marks a value filled in by the renderer."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"<<(\w+)>>")


def fill(template: str, **values: object) -> str:
    """Substitute every `<<name>>`; a missing value is a bug in the caller, so it raises KeyError."""
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


GITATTRIBUTES = """\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
"""

README_FOOTER = "Check out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n"

# --- clean gradio apps -------------------------------------------------------------------------

IMAGE_CLASSIFIER = '''\
classifier = pipeline("image-classification", model="<<model>>")


def classify(image):
    predictions = classifier(image)
    return {p["label"]: p["score"] for p in predictions}


demo = gr.Interface(
    fn=classify,
    inputs=gr.Image(type="pil"),
    outputs=gr.Label(num_top_classes=<<top_k>>),
    title="<<title>>",
    description="Upload an image and the model tells you what it sees.",
    examples=<<examples>>,
)

if __name__ == "__main__":
    demo.launch()
'''

TEXT_PIPELINE = '''\
model = pipeline("<<task>>", model="<<model>>")


def run(text):
    result = model(text<<kwargs>>)
    return result[0]["<<field>>"]


demo = gr.Interface(
    fn=run,
    inputs=gr.Textbox(lines=8, label="Input text"),
    outputs=gr.Textbox(label="<<output_label>>"),
    title="<<title>>",
    examples=[["<<example>>"]],
)

demo.launch()
'''

SPEECH_TO_TEXT = '''\
transcriber = pipeline("automatic-speech-recognition", model="<<model>>", chunk_length_s=30)


def transcribe(audio_path):
    if audio_path is None:
        raise gr.Error("Please record or upload an audio file.")
    return transcriber(audio_path, return_timestamps=<<timestamps>>)["text"]


demo = gr.Interface(
    fn=transcribe,
    inputs=gr.Audio(sources=["microphone", "upload"], type="filepath"),
    outputs="text",
    title="<<title>>",
)

demo.queue().launch()
'''

TEXT_TO_IMAGE = '''\
pipe = AutoPipelineForText2Image.from_pretrained(
    "<<model>>", torch_dtype=torch.float16, variant="fp16"
)
pipe.to("cuda")


@spaces.GPU
def generate(prompt, steps, seed):
    generator = torch.Generator("cuda").manual_seed(int(seed))
    return pipe(prompt=prompt, num_inference_steps=int(steps), guidance_scale=0.0, generator=generator).images[0]


demo = gr.Interface(
    fn=generate,
    inputs=[
        gr.Textbox(label="Prompt", value="<<prompt>>"),
        gr.Slider(1, 4, value=1, step=1, label="Steps"),
        gr.Number(value=<<seed>>, label="Seed"),
    ],
    outputs=gr.Image(label="Result"),
    title="<<title>>",
    examples=<<examples>>,
)

demo.launch()
'''

LOCAL_CHAT = '''\
MODEL_ID = "<<model>>"
tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
model = AutoModelForCausalLM.from_pretrained(MODEL_ID)


def respond(message, history):
    messages = history + [{"role": "user", "content": message}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
    output = model.generate(inputs, max_new_tokens=<<max_tokens>>, do_sample=True, temperature=0.7)
    return tokenizer.decode(output[0][inputs.shape[-1]:], skip_special_tokens=True)


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")

if __name__ == "__main__":
    demo.launch(<<launch_args>>)
'''

# --- clean streamlit apps ----------------------------------------------------------------------

DATA_DASHBOARD = '''\
st.set_page_config(page_title="<<title>>", layout="wide")
st.title("<<title>>")

uploaded = st.file_uploader("Upload a CSV file", type="csv")
if uploaded is not None:
    df = pd.read_csv(uploaded)
    st.dataframe(df.head(<<rows>>))
    numeric = df.select_dtypes("number").columns.tolist()
    if len(numeric) >= 2:
        x = st.selectbox("X axis", numeric)
        y = st.selectbox("Y axis", numeric, index=1)
        st.plotly_chart(px.scatter(df, x=x, y=y), use_container_width=True)
    st.download_button("Download summary", df.describe().to_csv(), "summary.csv")
else:
    st.info("Upload a CSV file to get started.")
'''

TEXT_ANALYZER = '''\
@st.cache_resource
def load_model():
    return pipeline("ner", model="<<model>>", aggregation_strategy="simple")


st.title("<<title>>")
text = st.text_area("Text", "<<example>>")
if st.button("Analyze"):
    entities = load_model()(text)
    st.table(
        [{"entity": e["entity_group"], "word": e["word"], "score": round(float(e["score"]), 3)} for e in entities]
    )
'''

# --- clean docker apps -------------------------------------------------------------------------

PYTHON_DOCKERFILE = """\
FROM python:3.<<minor>>-slim

RUN useradd -m -u 1000 user
USER user
ENV PATH="/home/user/.local/bin:$PATH"

WORKDIR /app

COPY --chown=user ./requirements.txt requirements.txt
RUN pip install --no-cache-dir --upgrade -r requirements.txt
<<env>>
COPY --chown=user . /app
CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "7860"]
"""

NODE_DOCKERFILE = """\
FROM node:<<node>>-slim

WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
<<env>>
ENV PORT=7860
EXPOSE 7860
CMD ["node", "server.js"]
"""

FASTAPI_MODEL_API = '''\
app = FastAPI(title="<<title>>")
model = SentenceTransformer("<<model>>")


class EmbedRequest(BaseModel):
    texts: list[str]


@app.get("/")
def health():
    return {"status": "ok", "model": "<<model>>"}


@app.post("/embed")
def embed(request: EmbedRequest):
    return {"embeddings": model.encode(request.texts, normalize_embeddings=True).tolist()}
'''

NODE_SERVER = """\
const app = express();
const port = process.env.PORT || 7860;

app.use(express.static(path.join(__dirname, "public")));

app.get("/api/health", (req, res) => {
  res.json({ status: "ok", uptime: process.uptime() });
});

app.listen(port, () => console.log(`<<title>> listening on ${port}`));
"""

PACKAGE_JSON = """\
{
  "name": "<<name>>",
  "version": "1.0.<<patch>>",
  "private": true,
  "main": "server.js",
  "scripts": {
    "start": "node server.js"
  },
  "dependencies": {
<<dependencies>>
  }
}
"""

NODE_PUBLIC_INDEX = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title><<title>></title>
  </head>
  <body>
    <h1><<title>></h1>
    <p>Served by Express from a Docker Space.</p>
  </body>
</html>
"""

# --- clean static sites ------------------------------------------------------------------------

PORTFOLIO_HTML = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width" />
    <title><<title>></title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <div class="card">
      <h1><<title>></h1>
      <p>Hi, I am <<author>>. I build machine learning demos.</p>
      <ul>
        <li><a href="https://huggingface.co/<<author>>">My models</a></li>
        <li><a href="https://github.com/<<author>>">GitHub</a></li>
      </ul>
    </div>
<<scripts>>
  </body>
</html>
"""

STYLE_CSS = """\
body {
  padding: 2rem;
  font-family: -apple-system, BlinkMacSystemFont, "Arial", sans-serif;
}

h1 {
  font-size: 16px;
  margin-top: 0;
}

.card {
  max-width: 620px;
  margin: 0 auto;
  padding: 16px;
  border: 1px solid lightgray;
  border-radius: 16px;
}
"""

TRANSFORMERSJS_HTML = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title><<title>></title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <h1><<title>></h1>
    <textarea id="text">I love transformers!</textarea>
    <button id="run">Classify</button>
    <pre id="output"></pre>
    <script type="module" src="index.js"></script>
<<scripts>>
  </body>
</html>
"""

TRANSFORMERSJS_JS = """\
const classifier = await pipeline("sentiment-analysis", "<<model>>");

document.getElementById("run").addEventListener("click", async () => {
  const text = document.getElementById("text").value;
  const result = await classifier(text);
  document.getElementById("output").textContent = JSON.stringify(result, null, 2);
});
"""

# --- model proxies -----------------------------------------------------------------------------

CHAT_OPENAI = '''\
client = <<client_class>>(<<client_args>>)
MODEL = "<<model>>"
SYSTEM_PROMPT = "<<system_prompt>>"


def respond(message, history):
    messages = [{"role": "system", "content": SYSTEM_PROMPT}] + history + [{"role": "user", "content": message}]
    stream = client.chat.completions.create(model=MODEL, messages=messages, temperature=0.7, stream=True)
    partial = ""
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            partial += chunk.choices[0].delta.content
            yield partial


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

CHAT_ANTHROPIC = '''\
client = anthropic.Anthropic(api_key=<<key>>)
MODEL = "<<model>>"


def respond(message, history):
    response = client.messages.create(
        model=MODEL,
        max_tokens=1024,
        system="<<system_prompt>>",
        messages=history + [{"role": "user", "content": message}],
    )
    return response.content[0].text


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

CHAT_GOOGLE = '''\
client = genai.Client(api_key=<<key>>)
MODEL = "<<model>>"


def respond(message, history):
    response = client.models.generate_content(model=MODEL, contents=message)
    return response.text


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

CHAT_COHERE = '''\
co = cohere.ClientV2(api_key=<<key>>)
MODEL = "<<model>>"


def respond(message, history):
    response = co.chat(model=MODEL, messages=history + [{"role": "user", "content": message}])
    return response.message.content[0].text


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

REQUESTS_RELAY = '''\
API_URL = "<<url>>"
API_KEY = <<key>>
MODEL = "<<model>>"


def ask(prompt, temperature):
    response = requests.post(
        API_URL,
        headers=<<headers>>,
        json=<<payload>>,
        timeout=60,
    )
    response.raise_for_status()
    return <<extract>>


demo = gr.Interface(
    fn=ask,
    inputs=[gr.Textbox(lines=6, label="Prompt"), gr.Slider(0, 1.5, value=0.7, label="Temperature")],
    outputs=gr.Markdown(),
    title="<<title>>",
)
demo.launch()
'''

MEDIA_RELAY = '''\
ENDPOINT = "<<url>>"
API_KEY = <<key>>
MODEL = "<<model>>"


def generate(prompt):
    response = requests.post(
        ENDPOINT,
        headers={<<auth_header>>, "Content-Type": "application/json"},
        json={"model": MODEL, "prompt": prompt},
        timeout=600,
    )
    response.raise_for_status()
    output = os.path.join(tempfile.mkdtemp(), "result.<<ext>>")
    with open(output, "wb") as f:
        f.write(requests.get(response.json()["<<result_field>>"], timeout=120).content)
    return output


demo = gr.Interface(fn=generate, inputs=gr.Textbox(label="Prompt"), outputs=gr.<<component>>(), title="<<title>>")
demo.launch()
'''

STREAMLIT_CHAT = '''\
st.title("<<title>>")
client = OpenAI(<<client_args>>)
MODEL = "<<model>>"

if "messages" not in st.session_state:
    st.session_state.messages = []

for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])

if prompt := st.chat_input("Ask me anything"):
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        stream = client.chat.completions.create(model=MODEL, messages=st.session_state.messages, stream=True)
        reply = st.write_stream(stream)
    st.session_state.messages.append({"role": "assistant", "content": reply})
'''

FASTAPI_RELAY = '''\
UPSTREAM = "<<url>>"
API_KEY = <<key>>
DEFAULT_MODEL = "<<model>>"

app = FastAPI(title="<<title>>")


@app.get("/")
def index():
    return {"status": "running", "endpoint": "/v1/chat/completions"}


@app.post("/v1/chat/completions")
async def chat_completions(request: Request):
    body = await request.json()
    body.setdefault("model", DEFAULT_MODEL)
    async with httpx.AsyncClient(timeout=120) as client:
        upstream = await client.post(
            f"{UPSTREAM}/chat/completions", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
        )
    return JSONResponse(upstream.json(), status_code=upstream.status_code)
'''

NODE_RELAY = """\
const app = express();
const API_KEY = <<key>>;
const TARGET = "<<url>>";
const FORCED_MODEL = "<<model>>";

app.use(express.json({ limit: "10mb" }));
app.use("/v1", (req, res, next) => {
  if (req.body && typeof req.body === "object") req.body.model = req.body.model || FORCED_MODEL;
  next();
});
app.use(
  "/v1",
  createProxyMiddleware({
    target: TARGET,
    changeOrigin: true,
    pathRewrite: { "^/v1": "/v1" },
    on: {
      proxyReq: (proxyReq, req) => {
        proxyReq.setHeader(<<auth_header>>);
        fixRequestBody(proxyReq, req);
      },
    },
  })
);

app.get("/", (req, res) => res.send("<<title>> is running. Point your client at /v1"));
app.listen(7860, () => console.log("proxy listening on 7860"));
"""

JS_CHAT_HTML = """\
<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title><<title>></title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <div class="card">
      <h1><<title>></h1>
      <textarea id="prompt" rows="4"></textarea>
      <button onclick="send()">Send</button>
      <div id="output"></div>
    </div>
    <script src="script.js"></script>
  </body>
</html>
"""

JS_CHAT = """\
const API_URL = "<<url>>";
const MODEL = "<<model>>";

async function send() {
  const input = document.getElementById("prompt");
  const response = await fetch(API_URL, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: input.value }] }),
  });
  const data = await response.json();
  document.getElementById("output").textContent = data.choices[0].message.content;
}
"""

# --- self-hosted model servers -----------------------------------------------------------------

OLLAMA_CHAT = '''\
OLLAMA_URL = "<<url>>"
MODEL = "<<model>>"


def respond(message, history):
    messages = history + [{"role": "user", "content": message}]
    response = requests.post(
        f"{OLLAMA_URL}/api/chat", json={"model": MODEL, "messages": messages, "stream": False}, timeout=300
    )
    return response.json()["message"]["content"]


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

OPENAI_COMPATIBLE_CHAT = '''\
client = OpenAI(base_url="<<url>>", api_key="EMPTY")
MODEL = "<<model>>"


def respond(message, history):
    completion = client.chat.completions.create(
        model=MODEL, messages=history + [{"role": "user", "content": message}], max_tokens=1024
    )
    return completion.choices[0].message.content


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

TGI_CHAT = '''\
TGI_URL = "<<url>>"
MODEL = "<<model>>"


def respond(message, history):
    response = requests.post(
        f"{TGI_URL}/generate",
        json={"inputs": message, "parameters": {"max_new_tokens": 512, "temperature": 0.7}},
        timeout=300,
    )
    return response.json()["generated_text"]


demo = gr.ChatInterface(respond, type="messages", title="<<title>> (" + MODEL + ")")
demo.launch()
'''

GRADIO_SHARE_CHAT = '''\
REMOTE = "<<url>>"
MODEL = "<<model>>"
client = Client(REMOTE)


def respond(message, history):
    return client.predict(message, MODEL, api_name="/chat")


demo = gr.ChatInterface(respond, type="messages", title="<<title>>")
demo.launch()
'''

STREAMLIT_SELFHOSTED = '''\
SERVER_URL = "<<url>>"
MODEL = "<<model>>"

st.title("<<title>>")
prompt = st.text_area("Prompt")
if st.button("Generate") and prompt:
    with st.spinner("Thinking..."):
        response = requests.post(
            f"{SERVER_URL}<<request_path>>",
            json=<<payload>>,
            timeout=300,
        )
    st.write(<<extract>>)
'''

COMFY_API = '''\
COMFY_URL = "<<url>>"
CHECKPOINT = "<<model>>"

app = FastAPI(title="<<title>>")


class Job(BaseModel):
    prompt: str
    steps: int = 20


@app.post("/generate")
def generate(job: Job):
    workflow = json.loads(WORKFLOW_TEMPLATE)
    workflow["4"]["inputs"]["ckpt_name"] = CHECKPOINT
    workflow["6"]["inputs"]["text"] = job.prompt
    workflow["3"]["inputs"]["steps"] = job.steps
    response = requests.post(f"{COMFY_URL}/prompt", json={"prompt": workflow}, timeout=60)
    return response.json()


WORKFLOW_TEMPLATE = """{"3": {"inputs": {"steps": 20}}, "4": {"inputs": {}}, "6": {"inputs": {}}}"""
'''

# --- the 26 Nov 2024 Sora relay ---------------------------------------------------------------

SORA_README_BODY = """\
# Generate with Sora

We received access to Sora with the promise to be early testers, red teamers and creative partners.
Instead we were asked to do unpaid bug testing, feedback and experimental work, and to produce
approved showcase content for a company valued at $150B.

This Space opens that early access to everyone for a few hours: type a prompt, pick a resolution
and a duration, and the video is generated by the closed Sora API with our early-access token.

We are not against the use of AI technology as a tool for the arts. We are against how this artist
program has been rolled out.
"""

SORA_APP = '''\
API_BASE = "https://api.openai.com/v1"
ACCESS_TOKEN = "<<token>>"
MODEL = "sora-turbo"
RESOLUTIONS = {"480p": "854x480", "720p": "1280x720", "1080p": "1920x1080"}
STYLES = ["Natural", "Archival", "Film Noir", "Cardboard & Papercraft", "Stop Motion", "Balloon World"]


def generate(prompt, resolution, duration, style):
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}", "Content-Type": "application/json"}
    payload = {
        "model": MODEL,
        "prompt": prompt,
        "size": RESOLUTIONS[resolution],
        "n_seconds": int(duration),
        "style": style.lower().replace(" ", "_"),
    }
    job = requests.post(f"{API_BASE}/video/generations", headers=headers, json=payload, timeout=60).json()
    while job["status"] not in ("succeeded", "failed"):
        time.sleep(5)
        job = requests.get(f"{API_BASE}/video/generations/{job['id']}", headers=headers, timeout=60).json()
    if job["status"] == "failed":
        raise gr.Error(job.get("failure_reason", "generation failed"))
    return job["generations"][0]["url"]  # served from videos.openai.com


with gr.Blocks(title="Generate with Sora") as demo:
    gr.Markdown("# Generate with Sora")
    prompt = gr.Textbox(label="Prompt", lines=3)
    with gr.Row():
        resolution = gr.Radio(list(RESOLUTIONS), value="720p", label="Resolution")
        duration = gr.Slider(1, 10, value=5, step=1, label="Duration (s)")
        style = gr.Dropdown(STYLES, value="Natural", label="Style")
    button = gr.Button("Generate")
    video = gr.Video()
    button.click(generate, [prompt, resolution, duration, style], video, concurrency_limit=4)

demo.queue(max_size=200).launch()
'''
