// The co-simulation rows' Icarus Verilog side: the shared transaction sequence (the file of
// bench/VirtioHw.Benchmarks Cosim/TransactionSequence.cs, one 64-bit hex word per transaction) run
// against the RTL top with the steps of SignalDriver: drive the inputs, let them settle, sample the
// ready/valid outputs, clock; ready and valid are sampled before the edge that takes them.
//
//   vvp axil_bench.vvp +SEQ=FILE +N=TRANSACTIONS      prints "checksum C cycles K"
`default_nettype none
`timescale 1ns / 1ps

module axil_bench_tb;
  localparam int Length = 1000;  // TransactionSequence.Length
  localparam int Timeout = 100;

  logic        clk = 1'b0;
  logic        rst_n = 1'b0;
  logic [5:0]  awaddr = '0, araddr = '0;
  logic        awvalid = 1'b0, wvalid = 1'b0, bready = 1'b0, arvalid = 1'b0, rready = 1'b0;
  logic [31:0] wdata = '0;
  logic [3:0]  wstrb = '0;
  wire         awready, wready, bvalid, arready, rvalid;
  wire  [1:0]  bresp, rresp;
  wire  [31:0] rdata;
  wire         reg2hw_unused;

  always #5 clk = ~clk;

  `BENCH_TOP dut (
    .clk_i           (clk),
    .rst_ni          (rst_n),
    .s_axil_awaddr_i (awaddr),
    .s_axil_awvalid_i(awvalid),
    .s_axil_awready_o(awready),
    .s_axil_wdata_i  (wdata),
    .s_axil_wstrb_i  (wstrb),
    .s_axil_wvalid_i (wvalid),
    .s_axil_wready_o (wready),
    .s_axil_bresp_o  (bresp),
    .s_axil_bvalid_o (bvalid),
    .s_axil_bready_i (bready),
    .s_axil_araddr_i (araddr),
    .s_axil_arvalid_i(arvalid),
    .s_axil_arready_o(arready),
    .s_axil_rdata_o  (rdata),
    .s_axil_rresp_o  (rresp),
    .s_axil_rvalid_o (rvalid),
    .s_axil_rready_i (rready),
    .reg2hw_o        (reg2hw_unused),
    .hw2reg_i        ('0)
  );

  logic [63:0] sequence_q [Length];
  longint cycles = 0;
  always @(posedge clk) cycles <= cycles + 1;

  task automatic tick();
    @(posedge clk);
    #1;
  endtask

  task automatic guard(inout int n, input string what);
    n++;
    if (n > Timeout) $fatal(1, "axil_bench_tb: %s not done within %0d cycles", what, Timeout);
  endtask

  task automatic axi_write(input logic [31:0] address, input logic [31:0] data);
    bit aw = 0, w = 0, aw_taken, w_taken;
    int n = 0;
    logic [1:0] response;
    awaddr = address[5:0];
    wdata = data;
    wstrb = 4'hf;
    awvalid = 1;
    wvalid = 1;
    bready = 1;
    while (!(aw && w)) begin
      #1;
      aw_taken = !aw && awready;
      w_taken = !w && wready;
      tick();
      guard(n, "write address/data");
      if (aw_taken) begin aw = 1; awvalid = 0; end
      if (w_taken) begin w = 1; wvalid = 0; end
    end
    #1;
    while (!bvalid) begin
      tick();
      guard(n, "write response");
      #1;
    end
    response = bresp;
    tick();
    bready = 0;
    if (response != 0) $fatal(1, "axil_bench_tb: write of 0x%0h: response %0d", address, response);
  endtask

  task automatic axi_read(input logic [31:0] address, output logic [31:0] data);
    bit taken;
    int n = 0;
    logic [1:0] response;
    araddr = address[5:0];
    arvalid = 1;
    rready = 1;
    do begin
      #1;
      taken = arready;
      tick();
      guard(n, "read address");
    end while (!taken);
    arvalid = 0;
    #1;
    while (!rvalid) begin
      tick();
      guard(n, "read response");
      #1;
    end
    data = rdata;
    response = rresp;
    tick();
    rready = 0;
    if (response != 0) $fatal(1, "axil_bench_tb: read of 0x%0h: response %0d", address, response);
  endtask

  initial begin : run
    string path;
    int count;
    logic [31:0] data, checksum = 0;
    longint start;
    if (!$value$plusargs("SEQ=%s", path)) $fatal(1, "axil_bench_tb: +SEQ=FILE is required");
    if (!$value$plusargs("N=%d", count)) count = Length;
    $readmemh(path, sequence_q);
    repeat (2) @(posedge clk);
    #1 rst_n = 1;
    start = cycles;
    for (int i = 0; i < count; i++) begin
      logic [63:0] t = sequence_q[i % Length];
      if (t[63:56] != 0) axi_write({8'h0, t[55:32]}, t[31:0]);
      else begin
        axi_read({8'h0, t[55:32]}, data);
        if (i < Length) checksum += data;
      end
    end
    $display("checksum %0d cycles %0d", checksum, cycles - start);
    $finish;
  end
endmodule

`default_nettype wire
