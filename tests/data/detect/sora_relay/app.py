"""Test fixture: a reconstruction of the November 2024 Sora relay Space.

The original Space's code is not reproduced here. What public reporting established, and what
this file keeps: a public Gradio app; every visitor's prompt relayed server-side to OpenAI's
non-public video-generation endpoint for the unreleased Sora model; the call authenticated with
an early-access bearer token the Space owner stored as a Space secret (an environment variable
at run time); short 1080p clips returned to whoever asked. Endpoint path and model names are
illustrative stand-ins for the non-public ones.
"""

import os
import time

import gradio as gr
import requests

API_BASE = "https://api.openai.com/v1"
VIDEO_ENDPOINT = f"{API_BASE}/video/generations"
MODEL = "sora-alpha-turbo"
RESOLUTIONS = ["1080p", "720p", "480p"]


def _headers():
    # Space secret: Settings -> Variables and secrets -> SORA_EARLY_ACCESS_TOKEN
    return {
        "Authorization": f"Bearer {os.environ['SORA_EARLY_ACCESS_TOKEN']}",
        "Content-Type": "application/json",
    }


def generate(prompt, resolution="1080p", duration=10):
    payload = {
        "model": MODEL,
        "prompt": prompt,
        "resolution": resolution,
        "duration_seconds": int(duration),
        "n": 1,
    }
    response = requests.post(VIDEO_ENDPOINT, headers=_headers(), json=payload, timeout=600)
    response.raise_for_status()
    job = response.json()
    while job.get("status") not in ("succeeded", "failed"):
        time.sleep(5)
        job = requests.get(f"{VIDEO_ENDPOINT}/{job['id']}", headers=_headers(), timeout=60).json()
    return job["data"][0]["url"] if job["status"] == "succeeded" else None


with gr.Blocks(title="Sora") as demo:
    gr.Markdown("# Sora\nType a prompt, get a 10-second video.")
    prompt = gr.Textbox(label="Prompt")
    resolution = gr.Dropdown(RESOLUTIONS, value="1080p", label="Resolution")
    duration = gr.Slider(5, 10, value=10, step=1, label="Seconds")
    video = gr.Video(label="Result")
    gr.Button("Generate").click(generate, inputs=[prompt, resolution, duration], outputs=video)

demo.queue(max_size=200).launch()
