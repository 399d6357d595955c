`default_nettype none

// The ivshmem endpoint (hw/endpoints/ivshmem.yaml, through the generated ivshmem_ep_pkg;
// IvshmemEndpointModel in the model): PCI configuration space with the MSI-X capability, BAR0 (the
// ivshmem registers: IntrMask, IntrStatus, IVPosition, Doorbell), BAR1 (MSI-X table and PBA), BAR2
// (the shared memory, one to one onto backing memory through the memory master), the firmware CSR
// port and the MSI output. A doorbell write becomes a DOORBELL event for firmware, which routes it
// to the peer; firmware's msix_trigger sends the vector while MSI-X is on and sets IntrStatus to 1
// while it is off, as QEMU does. IVPosition reads iv_position_i, the peer id the platform assigns.
// hw/rtl/endpoint/README.md has the port contract.
module ivshmem_endpoint_top #(
  parameter bit EMULATE_HEADER = 1'b1,  // 0: vendor hard IP owns the type-0 header; cfg_ reads the capabilities
  parameter int unsigned CfgAw  = 12,
  parameter int unsigned Bar0Aw = ivshmem_ep_pkg::BAR0_AW,
  parameter int unsigned Bar1Aw = ivshmem_ep_pkg::BAR1_AW,
  parameter int unsigned Bar2Aw = ivshmem_ep_pkg::BAR2_AW,
  parameter int unsigned FwAw   = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // AXI4-Lite slave cfg_*
  input  wire logic [CfgAw-1:0] cfg_awaddr_i,
  input  wire logic          cfg_awvalid_i,
  output logic               cfg_awready_o,
  input  wire logic [31:0]   cfg_wdata_i,
  input  wire logic [3:0]    cfg_wstrb_i,
  input  wire logic          cfg_wvalid_i,
  output logic               cfg_wready_o,
  output logic [1:0]         cfg_bresp_o,
  output logic               cfg_bvalid_o,
  input  wire logic          cfg_bready_i,
  input  wire logic [CfgAw-1:0] cfg_araddr_i,
  input  wire logic          cfg_arvalid_i,
  output logic               cfg_arready_o,
  output logic [31:0]        cfg_rdata_o,
  output logic [1:0]         cfg_rresp_o,
  output logic               cfg_rvalid_o,
  input  wire logic          cfg_rready_i,
  // AXI4-Lite slave bar0_*
  input  wire logic [Bar0Aw-1:0] bar0_awaddr_i,
  input  wire logic          bar0_awvalid_i,
  output logic               bar0_awready_o,
  input  wire logic [31:0]   bar0_wdata_i,
  input  wire logic [3:0]    bar0_wstrb_i,
  input  wire logic          bar0_wvalid_i,
  output logic               bar0_wready_o,
  output logic [1:0]         bar0_bresp_o,
  output logic               bar0_bvalid_o,
  input  wire logic          bar0_bready_i,
  input  wire logic [Bar0Aw-1:0] bar0_araddr_i,
  input  wire logic          bar0_arvalid_i,
  output logic               bar0_arready_o,
  output logic [31:0]        bar0_rdata_o,
  output logic [1:0]         bar0_rresp_o,
  output logic               bar0_rvalid_o,
  input  wire logic          bar0_rready_i,
  // AXI4-Lite slave bar1_*
  input  wire logic [Bar1Aw-1:0] bar1_awaddr_i,
  input  wire logic          bar1_awvalid_i,
  output logic               bar1_awready_o,
  input  wire logic [31:0]   bar1_wdata_i,
  input  wire logic [3:0]    bar1_wstrb_i,
  input  wire logic          bar1_wvalid_i,
  output logic               bar1_wready_o,
  output logic [1:0]         bar1_bresp_o,
  output logic               bar1_bvalid_o,
  input  wire logic          bar1_bready_i,
  input  wire logic [Bar1Aw-1:0] bar1_araddr_i,
  input  wire logic          bar1_arvalid_i,
  output logic               bar1_arready_o,
  output logic [31:0]        bar1_rdata_o,
  output logic [1:0]         bar1_rresp_o,
  output logic               bar1_rvalid_o,
  input  wire logic          bar1_rready_i,
  // AXI4-Lite slave bar2_*
  input  wire logic [Bar2Aw-1:0] bar2_awaddr_i,
  input  wire logic          bar2_awvalid_i,
  output logic               bar2_awready_o,
  input  wire logic [31:0]   bar2_wdata_i,
  input  wire logic [3:0]    bar2_wstrb_i,
  input  wire logic          bar2_wvalid_i,
  output logic               bar2_wready_o,
  output logic [1:0]         bar2_bresp_o,
  output logic               bar2_bvalid_o,
  input  wire logic          bar2_bready_i,
  input  wire logic [Bar2Aw-1:0] bar2_araddr_i,
  input  wire logic          bar2_arvalid_i,
  output logic               bar2_arready_o,
  output logic [31:0]        bar2_rdata_o,
  output logic [1:0]         bar2_rresp_o,
  output logic               bar2_rvalid_o,
  input  wire logic          bar2_rready_i,
  // AXI4-Lite slave fw_*
  input  wire logic [FwAw-1:0] fw_awaddr_i,
  input  wire logic          fw_awvalid_i,
  output logic               fw_awready_o,
  input  wire logic [31:0]   fw_wdata_i,
  input  wire logic [3:0]    fw_wstrb_i,
  input  wire logic          fw_wvalid_i,
  output logic               fw_wready_o,
  output logic [1:0]         fw_bresp_o,
  output logic               fw_bvalid_o,
  input  wire logic          fw_bready_i,
  input  wire logic [FwAw-1:0] fw_araddr_i,
  input  wire logic          fw_arvalid_i,
  output logic               fw_arready_o,
  output logic [31:0]        fw_rdata_o,
  output logic [1:0]         fw_rresp_o,
  output logic               fw_rvalid_o,
  input  wire logic          fw_rready_i,
  // Memory master: BAR2 shared memory accesses, in backing memory
  output logic               mem_req_o,
  output logic               mem_we_o,
  output logic [63:0]        mem_addr_o,
  output logic [3:0]         mem_be_o,
  output logic [31:0]        mem_wdata_o,
  input  wire logic          mem_ack_i,
  input  wire logic [31:0]   mem_rdata_i,
  // MSI messages
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  // This peer's id, as IVPosition reads it (the description's iv_position unless the platform assigns another)
  input  wire logic [31:0]   iv_position_i,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam int unsigned Vectors = ivshmem_ep_pkg::MSIX_VECTORS;

  // Structure windows inside the BARs (the description places each in one BAR).
  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  // ---- host ports into register blocks and local targets ----
  logic [CfgAw-1:0]      cfg_dec_addr, cfg_m_addr;
  logic                cfg_dec_we;
  logic [1:0]        cfg_dec_sel;
  logic [31:0]         cfg_m_wdata;
  logic [3:0]          cfg_m_wstrb;
  logic [1:0]        cfg_m_awvalid, cfg_m_awready, cfg_m_wvalid, cfg_m_wready;
  logic [1:0]        cfg_m_bvalid, cfg_m_bready, cfg_m_arvalid, cfg_m_arready;
  logic [63:0]      cfg_m_rdata;
  logic [1:0]        cfg_m_rvalid, cfg_m_rready;
  logic                cfg_loc_req, cfg_loc_ack;
  logic [31:0]         cfg_loc_rdata;
  logic [Bar0Aw-1:0]      bar0_dec_addr, bar0_m_addr;
  logic                bar0_dec_we;
  logic [0:0]        bar0_dec_sel;
  logic [31:0]         bar0_m_wdata;
  logic [3:0]          bar0_m_wstrb;
  logic [0:0]        bar0_m_awvalid, bar0_m_awready, bar0_m_wvalid, bar0_m_wready;
  logic [0:0]        bar0_m_bvalid, bar0_m_bready, bar0_m_arvalid, bar0_m_arready;
  logic [31:0]      bar0_m_rdata;
  logic [0:0]        bar0_m_rvalid, bar0_m_rready;
  logic                bar0_loc_req, bar0_loc_ack;
  logic [31:0]         bar0_loc_rdata;
  logic [Bar1Aw-1:0]      bar1_dec_addr, bar1_m_addr;
  logic                bar1_dec_we;
  logic [1:0]        bar1_dec_sel;
  logic [31:0]         bar1_m_wdata;
  logic [3:0]          bar1_m_wstrb;
  logic [1:0]        bar1_m_awvalid, bar1_m_awready, bar1_m_wvalid, bar1_m_wready;
  logic [1:0]        bar1_m_bvalid, bar1_m_bready, bar1_m_arvalid, bar1_m_arready;
  logic [63:0]      bar1_m_rdata;
  logic [1:0]        bar1_m_rvalid, bar1_m_rready;
  logic                bar1_loc_req, bar1_loc_ack;
  logic [31:0]         bar1_loc_rdata;
  logic [Bar2Aw-1:0]      bar2_dec_addr, bar2_m_addr;
  logic                bar2_dec_we;
  logic [0:0]        bar2_dec_sel;
  logic [31:0]         bar2_m_wdata;
  logic [3:0]          bar2_m_wstrb;
  logic [0:0]        bar2_m_awvalid, bar2_m_awready, bar2_m_wvalid, bar2_m_wready;
  logic [0:0]        bar2_m_bvalid, bar2_m_bready, bar2_m_arvalid, bar2_m_arready;
  logic [31:0]      bar2_m_rdata;
  logic [0:0]        bar2_m_rvalid, bar2_m_rready;
  logic                bar2_loc_req, bar2_loc_ack;
  logic [31:0]         bar2_loc_rdata;
  pci_header_reg_pkg::pci_header_reg2hw_t                   header_reg2hw;
  pci_header_reg_pkg::pci_header_hw2reg_t                   header_hw2reg;
  msix_cap_reg_pkg::msix_cap_reg2hw_t                       msix_cap_reg2hw;
  msix_cap_reg_pkg::msix_cap_hw2reg_t                       msix_cap_hw2reg;
  ivshmem_reg_pkg::ivshmem_reg2hw_t                         ivshmem_reg2hw;
  ivshmem_reg_pkg::ivshmem_hw2reg_t                         ivshmem_hw2reg;
  msix_table_reg_pkg::msix_table_reg2hw_t                   msix_table_reg2hw;
  msix_table_reg_pkg::msix_table_hw2reg_t                   msix_table_hw2reg;
  msix_pba_reg_pkg::msix_pba_reg2hw_t                       msix_pba_reg2hw;
  msix_pba_reg_pkg::msix_pba_hw2reg_t                       msix_pba_hw2reg;
  fw_csr_reg_pkg::fw_csr_reg2hw_t                           fw_csr_reg2hw;
  fw_csr_reg_pkg::fw_csr_hw2reg_t                           fw_csr_hw2reg;

  ep_axil_demux #(.N(2), .AW(CfgAw)) u_cfg_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (cfg_awaddr_i),
    .s_axil_awvalid_i(cfg_awvalid_i),
    .s_axil_awready_o(cfg_awready_o),
    .s_axil_wdata_i  (cfg_wdata_i),
    .s_axil_wstrb_i  (cfg_wstrb_i),
    .s_axil_wvalid_i (cfg_wvalid_i),
    .s_axil_wready_o (cfg_wready_o),
    .s_axil_bresp_o  (cfg_bresp_o),
    .s_axil_bvalid_o (cfg_bvalid_o),
    .s_axil_bready_i (cfg_bready_i),
    .s_axil_araddr_i (cfg_araddr_i),
    .s_axil_arvalid_i(cfg_arvalid_i),
    .s_axil_arready_o(cfg_arready_o),
    .s_axil_rdata_o  (cfg_rdata_o),
    .s_axil_rresp_o  (cfg_rresp_o),
    .s_axil_rvalid_o (cfg_rvalid_o),
    .s_axil_rready_i (cfg_rready_i),
    .dec_addr_o      (cfg_dec_addr),
    .dec_we_o        (cfg_dec_we),
    .dec_sel_i       (cfg_dec_sel),
    .m_addr_o        (cfg_m_addr),
    .m_wdata_o       (cfg_m_wdata),
    .m_wstrb_o       (cfg_m_wstrb),
    .m_awvalid_o     (cfg_m_awvalid),
    .m_awready_i     (cfg_m_awready),
    .m_wvalid_o      (cfg_m_wvalid),
    .m_wready_i      (cfg_m_wready),
    .m_bvalid_i      (cfg_m_bvalid),
    .m_bready_o      (cfg_m_bready),
    .m_arvalid_o     (cfg_m_arvalid),
    .m_arready_i     (cfg_m_arready),
    .m_rdata_i       (cfg_m_rdata),
    .m_rvalid_i      (cfg_m_rvalid),
    .m_rready_o      (cfg_m_rready),
    .loc_req_o       (cfg_loc_req),
    .loc_ack_i       (cfg_loc_ack),
    .loc_rdata_i     (cfg_loc_rdata)
  );

  ep_axil_demux #(.N(1), .AW(Bar0Aw)) u_bar0_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar0_awaddr_i),
    .s_axil_awvalid_i(bar0_awvalid_i),
    .s_axil_awready_o(bar0_awready_o),
    .s_axil_wdata_i  (bar0_wdata_i),
    .s_axil_wstrb_i  (bar0_wstrb_i),
    .s_axil_wvalid_i (bar0_wvalid_i),
    .s_axil_wready_o (bar0_wready_o),
    .s_axil_bresp_o  (bar0_bresp_o),
    .s_axil_bvalid_o (bar0_bvalid_o),
    .s_axil_bready_i (bar0_bready_i),
    .s_axil_araddr_i (bar0_araddr_i),
    .s_axil_arvalid_i(bar0_arvalid_i),
    .s_axil_arready_o(bar0_arready_o),
    .s_axil_rdata_o  (bar0_rdata_o),
    .s_axil_rresp_o  (bar0_rresp_o),
    .s_axil_rvalid_o (bar0_rvalid_o),
    .s_axil_rready_i (bar0_rready_i),
    .dec_addr_o      (bar0_dec_addr),
    .dec_we_o        (bar0_dec_we),
    .dec_sel_i       (bar0_dec_sel),
    .m_addr_o        (bar0_m_addr),
    .m_wdata_o       (bar0_m_wdata),
    .m_wstrb_o       (bar0_m_wstrb),
    .m_awvalid_o     (bar0_m_awvalid),
    .m_awready_i     (bar0_m_awready),
    .m_wvalid_o      (bar0_m_wvalid),
    .m_wready_i      (bar0_m_wready),
    .m_bvalid_i      (bar0_m_bvalid),
    .m_bready_o      (bar0_m_bready),
    .m_arvalid_o     (bar0_m_arvalid),
    .m_arready_i     (bar0_m_arready),
    .m_rdata_i       (bar0_m_rdata),
    .m_rvalid_i      (bar0_m_rvalid),
    .m_rready_o      (bar0_m_rready),
    .loc_req_o       (bar0_loc_req),
    .loc_ack_i       (bar0_loc_ack),
    .loc_rdata_i     (bar0_loc_rdata)
  );

  ep_axil_demux #(.N(2), .AW(Bar1Aw)) u_bar1_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar1_awaddr_i),
    .s_axil_awvalid_i(bar1_awvalid_i),
    .s_axil_awready_o(bar1_awready_o),
    .s_axil_wdata_i  (bar1_wdata_i),
    .s_axil_wstrb_i  (bar1_wstrb_i),
    .s_axil_wvalid_i (bar1_wvalid_i),
    .s_axil_wready_o (bar1_wready_o),
    .s_axil_bresp_o  (bar1_bresp_o),
    .s_axil_bvalid_o (bar1_bvalid_o),
    .s_axil_bready_i (bar1_bready_i),
    .s_axil_araddr_i (bar1_araddr_i),
    .s_axil_arvalid_i(bar1_arvalid_i),
    .s_axil_arready_o(bar1_arready_o),
    .s_axil_rdata_o  (bar1_rdata_o),
    .s_axil_rresp_o  (bar1_rresp_o),
    .s_axil_rvalid_o (bar1_rvalid_o),
    .s_axil_rready_i (bar1_rready_i),
    .dec_addr_o      (bar1_dec_addr),
    .dec_we_o        (bar1_dec_we),
    .dec_sel_i       (bar1_dec_sel),
    .m_addr_o        (bar1_m_addr),
    .m_wdata_o       (bar1_m_wdata),
    .m_wstrb_o       (bar1_m_wstrb),
    .m_awvalid_o     (bar1_m_awvalid),
    .m_awready_i     (bar1_m_awready),
    .m_wvalid_o      (bar1_m_wvalid),
    .m_wready_i      (bar1_m_wready),
    .m_bvalid_i      (bar1_m_bvalid),
    .m_bready_o      (bar1_m_bready),
    .m_arvalid_o     (bar1_m_arvalid),
    .m_arready_i     (bar1_m_arready),
    .m_rdata_i       (bar1_m_rdata),
    .m_rvalid_i      (bar1_m_rvalid),
    .m_rready_o      (bar1_m_rready),
    .loc_req_o       (bar1_loc_req),
    .loc_ack_i       (bar1_loc_ack),
    .loc_rdata_i     (bar1_loc_rdata)
  );

  ep_axil_demux #(.N(1), .AW(Bar2Aw)) u_bar2_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar2_awaddr_i),
    .s_axil_awvalid_i(bar2_awvalid_i),
    .s_axil_awready_o(bar2_awready_o),
    .s_axil_wdata_i  (bar2_wdata_i),
    .s_axil_wstrb_i  (bar2_wstrb_i),
    .s_axil_wvalid_i (bar2_wvalid_i),
    .s_axil_wready_o (bar2_wready_o),
    .s_axil_bresp_o  (bar2_bresp_o),
    .s_axil_bvalid_o (bar2_bvalid_o),
    .s_axil_bready_i (bar2_bready_i),
    .s_axil_araddr_i (bar2_araddr_i),
    .s_axil_arvalid_i(bar2_arvalid_i),
    .s_axil_arready_o(bar2_arready_o),
    .s_axil_rdata_o  (bar2_rdata_o),
    .s_axil_rresp_o  (bar2_rresp_o),
    .s_axil_rvalid_o (bar2_rvalid_o),
    .s_axil_rready_i (bar2_rready_i),
    .dec_addr_o      (bar2_dec_addr),
    .dec_we_o        (bar2_dec_we),
    .dec_sel_i       (bar2_dec_sel),
    .m_addr_o        (bar2_m_addr),
    .m_wdata_o       (bar2_m_wdata),
    .m_wstrb_o       (bar2_m_wstrb),
    .m_awvalid_o     (bar2_m_awvalid),
    .m_awready_i     (bar2_m_awready),
    .m_wvalid_o      (bar2_m_wvalid),
    .m_wready_i      (bar2_m_wready),
    .m_bvalid_i      (bar2_m_bvalid),
    .m_bready_o      (bar2_m_bready),
    .m_arvalid_o     (bar2_m_arvalid),
    .m_arready_i     (bar2_m_arready),
    .m_rdata_i       (bar2_m_rdata),
    .m_rvalid_i      (bar2_m_rvalid),
    .m_rready_o      (bar2_m_rready),
    .loc_req_o       (bar2_loc_req),
    .loc_ack_i       (bar2_loc_ack),
    .loc_rdata_i     (bar2_loc_rdata)
  );

  // ---- configuration space: the type-0 header, then the capability list ----
  // MSI-X is the only capability; its message control is driver-written state in a register
  // block, every other word of 0x40-0xff is the generated CAP_ROM.

  localparam logic [CfgAw-1:0] MsixCap = CfgAw'(ivshmem_ep_pkg::MSIX_CAP_OFFSET);

  always_comb begin
    cfg_dec_sel = '0;
    if (cfg_dec_addr < CfgAw'('h40)) cfg_dec_sel[0] = EMULATE_HEADER;
    else if (cfg_dec_addr >= MsixCap && cfg_dec_addr < MsixCap + CfgAw'('hc)) cfg_dec_sel[1] = 1'b1;
  end

  logic [5:0] cap_word;  // config word of a local access, in 0x40-0xff
  assign cap_word      = cfg_dec_addr[7:2] - 6'h10;
  assign cfg_loc_ack   = cfg_loc_req;
  assign cfg_loc_rdata = (cfg_dec_addr >= CfgAw'('h40) && cfg_dec_addr < CfgAw'('h100)) ?
                         ivshmem_ep_pkg::CAP_ROM[32*cap_word+:32] : 32'h0;

  pci_header_reg_top #(.AW(CfgAw)) u_header (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (cfg_m_addr),
    .s_axil_awvalid_i(cfg_m_awvalid[0]),
    .s_axil_awready_o(cfg_m_awready[0]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[0]),
    .s_axil_wready_o (cfg_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[0]),
    .s_axil_bready_i (cfg_m_bready[0]),
    .s_axil_araddr_i (cfg_m_addr),
    .s_axil_arvalid_i(cfg_m_arvalid[0]),
    .s_axil_arready_o(cfg_m_arready[0]),
    .s_axil_rdata_o  (cfg_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[0]),
    .s_axil_rready_i (cfg_m_rready[0]),
    .reg2hw_o        (header_reg2hw),
    .hw2reg_i        (header_hw2reg)
  );

  msix_cap_reg_top #(.AW(CfgAw)) u_msix_cap (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_awvalid_i(cfg_m_awvalid[1]),
    .s_axil_awready_o(cfg_m_awready[1]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[1]),
    .s_axil_wready_o (cfg_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[1]),
    .s_axil_bready_i (cfg_m_bready[1]),
    .s_axil_araddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_arvalid_i(cfg_m_arvalid[1]),
    .s_axil_arready_o(cfg_m_arready[1]),
    .s_axil_rdata_o  (cfg_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[1]),
    .s_axil_rready_i (cfg_m_rready[1]),
    .reg2hw_o        (msix_cap_reg2hw),
    .hw2reg_i        (msix_cap_hw2reg)
  );

  ep_bar_regs u_bars (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .wmask_i(ivshmem_ep_pkg::BAR_WMASK),
    .type_i (ivshmem_ep_pkg::BAR_TYPE),
    .re_i   (header_reg2hw.bar.re),
    .we_i   (header_reg2hw.bar.we),
    .idx_i  (header_reg2hw.bar.idx),
    .wdata_i(header_reg2hw.bar.wdata),
    .be_i   (header_reg2hw.bar.be),
    .ack_o  (header_hw2reg.bar.ack),
    .rdata_o(header_hw2reg.bar.rdata)
  );

  logic intx_pending;  // an unmasked IntrStatus bit: the legacy interrupt's level
  assign intx_pending = |(ivshmem_reg2hw.intr_status.intr_status.q & ivshmem_reg2hw.intr_mask.intr_mask.q);

  always_comb begin
    header_hw2reg.vendor_id.vendor_id.d = ivshmem_ep_pkg::VENDOR_ID;
    header_hw2reg.vendor_id.vendor_id.de = 1'b1;
    header_hw2reg.device_id.device_id.d = ivshmem_ep_pkg::DEVICE_ID;
    header_hw2reg.device_id.device_id.de = 1'b1;
    // INTx status follows IntrStatus & IntrMask while MSI-X is off.
    header_hw2reg.status.interrupt_status.d = intx_pending && !msix_cap_reg2hw.message_control.enable.q;
    header_hw2reg.status.interrupt_status.de = 1'b1;
    header_hw2reg.status.capabilities_list.d = ivshmem_ep_pkg::CAP_PTR != 8'h0;
    header_hw2reg.status.capabilities_list.de = 1'b1;
    header_hw2reg.revision_id.revision_id.d = ivshmem_ep_pkg::REVISION_ID;
    header_hw2reg.revision_id.revision_id.de = 1'b1;
    header_hw2reg.prog_if.prog_if.d = ivshmem_ep_pkg::PROG_IF;
    header_hw2reg.prog_if.prog_if.de = 1'b1;
    header_hw2reg.subclass.subclass.d = ivshmem_ep_pkg::SUBCLASS;
    header_hw2reg.subclass.subclass.de = 1'b1;
    header_hw2reg.base_class.base_class.d = ivshmem_ep_pkg::BASE_CLASS;
    header_hw2reg.base_class.base_class.de = 1'b1;
    header_hw2reg.header_type.header_type.d = 8'h00;
    header_hw2reg.header_type.header_type.de = 1'b1;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.d = ivshmem_ep_pkg::SUBSYSTEM_VENDOR_ID;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.de = 1'b1;
    header_hw2reg.subsystem_id.subsystem_id.d = ivshmem_ep_pkg::SUBSYSTEM_ID;
    header_hw2reg.subsystem_id.subsystem_id.de = 1'b1;
    header_hw2reg.capabilities_ptr.capabilities_ptr.d = ivshmem_ep_pkg::CAP_PTR;
    header_hw2reg.capabilities_ptr.capabilities_ptr.de = 1'b1;
    header_hw2reg.interrupt_pin.interrupt_pin.d = 8'h01;
    header_hw2reg.interrupt_pin.interrupt_pin.de = 1'b1;  // INTA#
  end

  // The read-only fields of the MSI-X capability, from the words the ROM holds for it.
  logic [31:0] msix_w0, msix_w1, msix_w2;
  assign msix_w0 = ivshmem_ep_pkg::CAP_ROM[32*((MsixCap - CfgAw'('h40)) >> 2)+:32];
  assign msix_w1 = ivshmem_ep_pkg::CAP_ROM[32*(((MsixCap - CfgAw'('h40)) >> 2) + 1)+:32];
  assign msix_w2 = ivshmem_ep_pkg::CAP_ROM[32*(((MsixCap - CfgAw'('h40)) >> 2) + 2)+:32];

  always_comb begin
    msix_cap_hw2reg.cap_id.cap_id.d = msix_w0[7:0];
    msix_cap_hw2reg.cap_id.cap_id.de = 1'b1;
    msix_cap_hw2reg.cap_next.cap_next.d = msix_w0[15:8];
    msix_cap_hw2reg.cap_next.cap_next.de = 1'b1;
    msix_cap_hw2reg.message_control.table_size.d = msix_w0[26:16];
    msix_cap_hw2reg.message_control.table_size.de = 1'b1;
    msix_cap_hw2reg.vector_table.bir.d = msix_w1[2:0];
    msix_cap_hw2reg.vector_table.bir.de = 1'b1;
    msix_cap_hw2reg.vector_table.offset.d = msix_w1[31:3];
    msix_cap_hw2reg.vector_table.offset.de = 1'b1;
    msix_cap_hw2reg.pending_array.bir.d = msix_w2[2:0];
    msix_cap_hw2reg.pending_array.bir.de = 1'b1;
    msix_cap_hw2reg.pending_array.offset.d = msix_w2[31:3];
    msix_cap_hw2reg.pending_array.offset.de = 1'b1;
  end

  // ---- BAR0: the ivshmem registers ----

  logic [63:0] bar0_addr;
  assign bar0_addr = 64'(bar0_dec_addr);
  // The register file spans the block's 16 bytes of the description's window; the rest is a hole.
  assign bar0_dec_sel[0] = in_window(bar0_addr, ivshmem_ep_pkg::IVSHMEM_OFFSET, 64'(ivshmem_reg_pkg::IVSHMEM_SIZE));
  assign bar0_loc_ack    = bar0_loc_req;
  assign bar0_loc_rdata  = 32'h0;

  ivshmem_reg_top #(.AW(Bar0Aw)) u_ivshmem (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(ivshmem_ep_pkg::IVSHMEM_OFFSET))),
    .s_axil_awvalid_i(bar0_m_awvalid[0]),
    .s_axil_awready_o(bar0_m_awready[0]),
    .s_axil_wdata_i  (bar0_m_wdata),
    .s_axil_wstrb_i  (bar0_m_wstrb),
    .s_axil_wvalid_i (bar0_m_wvalid[0]),
    .s_axil_wready_o (bar0_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar0_m_bvalid[0]),
    .s_axil_bready_i (bar0_m_bready[0]),
    .s_axil_araddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(ivshmem_ep_pkg::IVSHMEM_OFFSET))),
    .s_axil_arvalid_i(bar0_m_arvalid[0]),
    .s_axil_arready_o(bar0_m_arready[0]),
    .s_axil_rdata_o  (bar0_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar0_m_rvalid[0]),
    .s_axil_rready_i (bar0_m_rready[0]),
    .reg2hw_o        (ivshmem_reg2hw),
    .hw2reg_i        (ivshmem_hw2reg)
  );

  // Firmware triggers a doorbell's vector, or JOIN_TRIGGER for a peer that joined
  // (firmware/VirtioHw.Firmware/IvshmemSignals.cs); the device decides by its interrupt mode. The
  // seed specification: with pin interrupts a join sets IntrStatus to all-ones and a doorbell of any
  // vector ORs in bit 0 (an unread join stays visible); with MSI-X a join fires vector 0 and
  // doorbells only vectors 1..max. COMPAT_QEMU is QEMU 7.2's device: no join interrupt, IntrStatus 1
  // for a vector in range, every vector in range on MSI-X.
  logic        fw_trigger_q;
  logic [15:0] fw_vector;
  logic        fw_join, fw_in_range, msix_on;
  logic        msix_trigger;
  logic [15:0] msix_vector;
  assign fw_vector   = fw_csr_reg2hw.msix_trigger.vector.q;
  assign fw_join     = fw_vector == ivshmem_ep_pkg::JOIN_TRIGGER;
  assign fw_in_range = fw_vector < 16'(Vectors);
  assign msix_on     = msix_cap_reg2hw.message_control.enable.q;
  always_comb begin
    if (ivshmem_ep_pkg::COMPAT_QEMU) begin
      msix_trigger = fw_trigger_q && !fw_join;
      msix_vector  = fw_vector;
      ivshmem_hw2reg.intr_status.intr_status.d  = 32'h1;
      ivshmem_hw2reg.intr_status.intr_status.de = fw_trigger_q && !msix_on && fw_in_range;
    end else begin
      msix_trigger = fw_trigger_q && (fw_join || (fw_vector != 16'h0 && fw_in_range));
      msix_vector  = fw_join ? 16'h0 : fw_vector;
      ivshmem_hw2reg.intr_status.intr_status.d  = fw_join ? 32'hffff_ffff
                                                          : ivshmem_reg2hw.intr_status.intr_status.q | 32'h1;
      ivshmem_hw2reg.intr_status.intr_status.de = fw_trigger_q && !msix_on;
    end
    ivshmem_hw2reg.iv_position.iv_position.d = iv_position_i;
    ivshmem_hw2reg.iv_position.iv_position.de = 1'b1;
  end

  // ---- BAR1: MSI-X table and PBA ----

  logic [63:0] bar1_addr;
  assign bar1_addr = 64'(bar1_dec_addr);
  always_comb begin
    bar1_dec_sel = '0;
    bar1_dec_sel[0] = in_window(bar1_addr, ivshmem_ep_pkg::MSIX_TABLE_OFFSET, 64'(Vectors) * 64'h10);
    bar1_dec_sel[1] = in_window(bar1_addr, ivshmem_ep_pkg::MSIX_PBA_OFFSET, 64'h8);
  end
  assign bar1_loc_ack   = bar1_loc_req;
  assign bar1_loc_rdata = 32'h0;

  msix_table_reg_top #(.AW(Bar1Aw)) u_msix_table (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(ivshmem_ep_pkg::MSIX_TABLE_OFFSET))),
    .s_axil_awvalid_i(bar1_m_awvalid[0]),
    .s_axil_awready_o(bar1_m_awready[0]),
    .s_axil_wdata_i  (bar1_m_wdata),
    .s_axil_wstrb_i  (bar1_m_wstrb),
    .s_axil_wvalid_i (bar1_m_wvalid[0]),
    .s_axil_wready_o (bar1_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar1_m_bvalid[0]),
    .s_axil_bready_i (bar1_m_bready[0]),
    .s_axil_araddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(ivshmem_ep_pkg::MSIX_TABLE_OFFSET))),
    .s_axil_arvalid_i(bar1_m_arvalid[0]),
    .s_axil_arready_o(bar1_m_arready[0]),
    .s_axil_rdata_o  (bar1_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar1_m_rvalid[0]),
    .s_axil_rready_i (bar1_m_rready[0]),
    .reg2hw_o        (msix_table_reg2hw),
    .hw2reg_i        (msix_table_hw2reg)
  );

  msix_pba_reg_top #(.AW(Bar1Aw)) u_msix_pba (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(ivshmem_ep_pkg::MSIX_PBA_OFFSET))),
    .s_axil_awvalid_i(bar1_m_awvalid[1]),
    .s_axil_awready_o(bar1_m_awready[1]),
    .s_axil_wdata_i  (bar1_m_wdata),
    .s_axil_wstrb_i  (bar1_m_wstrb),
    .s_axil_wvalid_i (bar1_m_wvalid[1]),
    .s_axil_wready_o (bar1_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar1_m_bvalid[1]),
    .s_axil_bready_i (bar1_m_bready[1]),
    .s_axil_araddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(ivshmem_ep_pkg::MSIX_PBA_OFFSET))),
    .s_axil_arvalid_i(bar1_m_arvalid[1]),
    .s_axil_arready_o(bar1_m_arready[1]),
    .s_axil_rdata_o  (bar1_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar1_m_rvalid[1]),
    .s_axil_rready_i (bar1_m_rready[1]),
    .reg2hw_o        (msix_pba_reg2hw),
    .hw2reg_i        (msix_pba_hw2reg)
  );

  // MSI-X delivery reads the table's message address and data through their RAM read ports.
  logic [4:0] msix_raddr;
  always_comb begin
    msix_table_hw2reg.entry_msg_addr_lo.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_addr_hi.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_data.raddr    = msix_raddr;
  end

  // msix_trigger's swmod comes with the write; the vector written is in q a clock later.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) fw_trigger_q <= 1'b0;
    else fw_trigger_q <= fw_csr_reg2hw.msix_trigger.vector.swmod;
  end

  logic [63:0] msix_pending;
  ep_msix #(.Vectors(Vectors)) u_msix (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .trigger_i       (msix_trigger),
    .trigger_vector_i(msix_vector),
    .cfg_trigger_i   (1'b0),
    .cfg_vector_i    (16'h0),
    .clear_pending_i (1'b0),
    .enable_i        (msix_cap_reg2hw.message_control.enable.q),
    .function_mask_i (msix_cap_reg2hw.message_control.function_mask.q),
    .bus_master_i    (header_reg2hw.command.bus_master.q),
    .table_raddr_o   (msix_raddr),
    .addr_lo_i       (msix_table_reg2hw.entry_msg_addr_lo.rdata),
    .addr_hi_i       (msix_table_reg2hw.entry_msg_addr_hi.rdata),
    .data_i          (msix_table_reg2hw.entry_msg_data.rdata),
    .mask_i          (msix_table_reg2hw.entry_vector_control.mask.q),
    .pending_o       (msix_pending),
    .msi_valid_o     (msi_valid_o),
    .msi_ready_i     (msi_ready_i),
    .msi_addr_o      (msi_addr_o),
    .msi_data_o      (msi_data_o)
  );
  assign msix_pba_hw2reg.pending.pending.d  = msix_pending;
  assign msix_pba_hw2reg.pending.pending.de = 1'b1;

  // ---- BAR2: the shared memory, one to one onto backing memory ----

  logic [63:0] bar2_addr;
  logic        bar2_window;
  logic        plain_ack;
  logic [31:0] plain_rdata;
  assign bar2_addr      = 64'(bar2_dec_addr);
  assign bar2_dec_sel   = '0;
  assign bar2_window    = in_window(bar2_addr, ivshmem_ep_pkg::PLAIN_OFFSET, ivshmem_ep_pkg::PLAIN_LENGTH);
  assign bar2_m_awready = '0;
  assign bar2_m_wready  = '0;
  assign bar2_m_bvalid  = '0;
  assign bar2_m_arready = '0;
  assign bar2_m_rdata   = '0;
  assign bar2_m_rvalid  = '0;

  // The region sits at its own BAR offset in backing memory (PlainWindow in the model).
  ep_plain_window u_plain (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .req_i      (bar2_loc_req && bar2_window),
    .we_i       (bar2_dec_we),
    .addr_i     (bar2_addr),
    .wdata_i    (bar2_m_wdata),
    .be_i       (bar2_m_wstrb),
    .ack_o      (plain_ack),
    .rdata_o    (plain_rdata),
    .mem_req_o  (mem_req_o),
    .mem_we_o   (mem_we_o),
    .mem_addr_o (mem_addr_o),
    .mem_be_o   (mem_be_o),
    .mem_wdata_o(mem_wdata_o),
    .mem_ack_i  (mem_ack_i),
    .mem_rdata_i(mem_rdata_i)
  );
  assign bar2_loc_ack   = bar2_window ? plain_ack : bar2_loc_req;
  assign bar2_loc_rdata = bar2_window ? plain_rdata : 32'h0;

  // ---- the firmware event FIFO: the doorbell ----

  // Doorbell's swmod comes with the write of its peer bytes; peer and vector are in q a clock later.
  logic doorbell_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) doorbell_q <= 1'b0;
    else doorbell_q <= ivshmem_reg2hw.doorbell.peer.swmod;
  end

  logic        evt_push, evt_grant;
  logic [7:0]  evt_kind;
  logic [31:0] evt_data;
  assign evt_push = doorbell_q;
  assign evt_kind = fw_csr_reg_pkg::FW_EVENT_KIND_DOORBELL;
  assign evt_data = {ivshmem_reg2hw.doorbell.peer.q, ivshmem_reg2hw.doorbell.vector.q};

  // ---- the firmware CSR port ----

  ep_fw_port #(
    .FwAw          (FwAw),
    .EventDepth    (ivshmem_ep_pkg::EVENT_FIFO_DEPTH),
    .NP            (1),
    .VirtioDeviceId(ivshmem_ep_pkg::VIRTIO_DEVICE_ID),
    .Queues        (ivshmem_ep_pkg::QUEUES),
    .Vectors       (Vectors),
    .ChunkSlots    (0)
  ) u_fw (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .fw_awaddr_i (fw_awaddr_i),
    .fw_awvalid_i(fw_awvalid_i),
    .fw_awready_o(fw_awready_o),
    .fw_wdata_i  (fw_wdata_i),
    .fw_wstrb_i  (fw_wstrb_i),
    .fw_wvalid_i (fw_wvalid_i),
    .fw_wready_o (fw_wready_o),
    .fw_bresp_o  (fw_bresp_o),
    .fw_bvalid_o (fw_bvalid_o),
    .fw_bready_i (fw_bready_i),
    .fw_araddr_i (fw_araddr_i),
    .fw_arvalid_i(fw_arvalid_i),
    .fw_arready_o(fw_arready_o),
    .fw_rdata_o  (fw_rdata_o),
    .fw_rresp_o  (fw_rresp_o),
    .fw_rvalid_o (fw_rvalid_o),
    .fw_rready_i (fw_rready_i),
    .push_i      (evt_push),
    .push_kind_i (evt_kind),
    .push_data_i (evt_data),
    .push_grant_o(evt_grant),
    .fw_irq_o    (fw_irq_o),
    .reg2hw_o    (fw_csr_reg2hw),
    .hw2reg_i    (fw_csr_hw2reg)
  );

  always_comb begin
    fw_csr_hw2reg = '0;  // ep_fw_port drives identity and event registers itself
    fw_csr_hw2reg.drv_features.accepted.d = '0;
    fw_csr_hw2reg.drv_features.accepted.de = 1'b0;
    fw_csr_hw2reg.device_status.status.d = '0;
    fw_csr_hw2reg.device_status.status.de = 1'b0;
    fw_csr_hw2reg.q_max_size.ack = 1'b1;
    fw_csr_hw2reg.q_max_size.rdata = '0;
    fw_csr_hw2reg.q_state.ack = 1'b1;
    fw_csr_hw2reg.q_state.rdata = '0;
    fw_csr_hw2reg.q_msix_vector.ack = 1'b1;
    fw_csr_hw2reg.q_msix_vector.rdata = '0;
    fw_csr_hw2reg.q_desc.ack = 1'b1;
    fw_csr_hw2reg.q_desc.rdata = '0;
    fw_csr_hw2reg.q_driver.ack = 1'b1;
    fw_csr_hw2reg.q_driver.rdata = '0;
    fw_csr_hw2reg.q_device.ack = 1'b1;
    fw_csr_hw2reg.q_device.rdata = '0;
  end

endmodule

`default_nettype wire
