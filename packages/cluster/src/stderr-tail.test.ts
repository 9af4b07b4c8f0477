import { describe, expect, it } from "vitest";
import { StderrTail } from "./stderr-tail.js";

describe("StderrTail", () => {
  it("keeps only the last lines, newest last", () => {
    const tail = new StderrTail(3);
    for (let i = 1; i <= 10; i++) tail.push(`line ${i}\n`);
    expect(tail.toString()).toBe("line 8\nline 9\nline 10");
  });

  it("joins lines split across chunks", () => {
    const tail = new StderrTail(5);
    tail.push("Error: boo");
    tail.push(Buffer.from("m\n    at x\n"));
    expect(tail.toString()).toBe("Error: boom\n    at x");
  });

  it("caps the characters kept for one endless line", () => {
    const tail = new StderrTail(5, 100);
    for (let i = 0; i < 50; i++) tail.push("x".repeat(37));
    const kept = tail.toString();
    expect(kept.length).toBe(100);
    expect(kept).toBe("x".repeat(100));
  });

  it("is empty before any output", () => {
    expect(new StderrTail().toString()).toBe("");
  });
});
