// The VS Code client for `sibc lsp`: diagnostics as you type, hover, go to definition,
// completion and formatting come from the language server that sibc ships.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("sibdsl").get("server.command", "sibc");
  client = new LanguageClient(
    "sibdsl",
    "sibdsl language server",
    { command, args: ["lsp"] },
    { documentSelector: [{ language: "sib" }] }
  );
  context.subscriptions.push(client);
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
